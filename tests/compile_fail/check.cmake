# SPDX-License-Identifier: MIT
# Compiles SRC (must fail) and requires EXPECT in the first error line of the compiler output.
execute_process(COMMAND ${CXX} ${FLAGS} ${SRC} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SRC} compiled, but it must be rejected")
endif()
string(REGEX MATCH "error: [^\n]*" first_error "${err}")
message(STATUS "first error: ${first_error}")
string(FIND "${first_error}" "${EXPECT}" pos)
if(pos EQUAL -1)
  message(FATAL_ERROR "the first error is not ctnn's message.\nexpected: ${EXPECT}\nfirst error: ${first_error}\nfull output:\n${err}")
endif()
