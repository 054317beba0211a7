# tests/fuzz/replay_all.cmake: the ctest test fuzz_regressions. Runs every file of
# corpus/<t>/ and regressions/<t>/ (of every target: any input must hold every target's
# properties) through each replay executable; fails on the first that does not exit 0.
# Called with -DFUZZ_DIR=<tests/fuzz> -DTARGETS=a,b,... -DREPLAY_<t>=<executable>.

string(REPLACE "," ";" targets "${TARGETS}")
set(dirs)
foreach(kind corpus regressions)
  file(GLOB subdirs LIST_DIRECTORIES true "${FUZZ_DIR}/${kind}/*")
  list(SORT subdirs)
  foreach(d ${subdirs})
    if(IS_DIRECTORY "${d}")
      list(APPEND dirs "${d}")
    endif()
  endforeach()
endforeach()
if(NOT dirs)
  message(FATAL_ERROR "fuzz_regressions: no corpus or regression directories in ${FUZZ_DIR}")
endif()

foreach(t ${targets})
  set(exe "${REPLAY_${t}}")
  if(NOT exe)
    message(FATAL_ERROR "fuzz_regressions: no replay executable for target ${t}")
  endif()
  message(STATUS "fuzz_regressions: ${t}")
  execute_process(COMMAND "${exe}" ${dirs} RESULT_VARIABLE rc OUTPUT_VARIABLE out
    ERROR_VARIABLE errout)
  if(NOT rc STREQUAL "0")
    message("${errout}")
    message(FATAL_ERROR "fuzz_regressions: ${t} failed (${rc}); the last input named above "
      "is the one that broke")
  endif()
  message(STATUS "${out}")
endforeach()
