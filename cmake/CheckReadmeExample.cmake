# cmake/CheckReadmeExample.cmake: ctest `readme_example`. Extracts the ```c block
# under the heading "## Example" of README.md and fails unless it equals
# examples/example.c byte for byte.
#
# cmake -DREADME=... -DEXAMPLE=... -DOUT=<extracted copy> -P CheckReadmeExample.cmake

foreach(var README EXAMPLE OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "CheckReadmeExample: -D${var}=... is required")
  endif()
endforeach()

file(READ "${README}" readme)
file(READ "${EXAMPLE}" example)

string(FIND "\n${readme}" "\n## Example\n" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${README}: no \"## Example\" heading")
endif()
string(SUBSTRING "${readme}" ${at} -1 section)
# The section ends at the next level-2 heading.
string(FIND "${section}" "\n## " next)
if(NOT next EQUAL -1)
  string(SUBSTRING "${section}" 0 ${next} section)
endif()

string(FIND "${section}" "\n```c\n" open)
if(open EQUAL -1)
  message(FATAL_ERROR "${README}: no ```c block under \"## Example\"")
endif()
math(EXPR start "${open} + 6")
string(SUBSTRING "${section}" ${start} -1 code)
string(FIND "${code}" "\n```" close)
if(close EQUAL -1)
  message(FATAL_ERROR "${README}: the ```c block under \"## Example\" is not closed")
endif()
math(EXPR len "${close} + 1")
string(SUBSTRING "${code}" 0 ${len} code)

file(WRITE "${OUT}" "${code}")
if(NOT code STREQUAL example)
  find_program(DIFF diff)
  if(DIFF)
    execute_process(COMMAND ${DIFF} -u "${EXAMPLE}" "${OUT}")
  endif()
  message(FATAL_ERROR "README.md's example (extracted to ${OUT}) differs from ${EXAMPLE}")
endif()
message(STATUS "README.md's example matches ${EXAMPLE}")
