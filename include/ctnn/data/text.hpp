// SPDX-License-Identifier: MIT
#pragma once
/// @file text.hpp  Text data: fortune-file reader, UTF-8 handling, character and word tokenizers,
/// vocabulary (save/load), fixed-length id batches with lengths, and a hash-based train/test split.
/// Namespace ctnn::data::text; standard library only.
#include "text/batch.hpp"
#include "text/fortune.hpp"
#include "text/split.hpp"
#include "text/tokenizer.hpp"
#include "text/utf8.hpp"
#include "text/vocabulary.hpp"
