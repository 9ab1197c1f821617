# Build-time script (cmake -P): writes the man page OUT from the help texts
# of the built binary HYTRAIN with HELP2MAN.
#   help2man reads `hytrain --help` (synopsis, command list) and `--version`;
#   this script adds a COMMANDS section holding every command's own `--help`,
#   the commands being those listed under "commands:" in `hytrain --help`,
#   and the hand-written sections of INCLUDE (cmake/hytrain.h2m).
# A command whose --help fails stops the build: the man page must not
# silently lose a command.
foreach(v HYTRAIN HELP2MAN INCLUDE OUT)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "man-page.cmake: -D${v}=... is required")
  endif()
endforeach()

execute_process(COMMAND "${HYTRAIN}" --help RESULT_VARIABLE rc OUTPUT_VARIABLE usage ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "man-page.cmake: '${HYTRAIN} --help' exited with ${rc}: ${err}")
endif()

# The command names: the first word of each indented line of the block that
# follows the "commands:" line, up to the next empty line.
string(REPLACE ";" "\\;" usage_escaped "${usage}")
string(REPLACE "\n" ";" lines "${usage_escaped}")
set(commands "")
set(in_block FALSE)
foreach(line IN LISTS lines)
  if(line MATCHES "^[Cc]ommands:")
    set(in_block TRUE)
  elseif(in_block AND line STREQUAL "")
    break()
  elseif(in_block AND line MATCHES "^  +([a-z][a-z0-9-]*)")
    list(APPEND commands "${CMAKE_MATCH_1}")
  endif()
endforeach()
list(REMOVE_DUPLICATES commands)
if(NOT commands)
  message(FATAL_ERROR "man-page.cmake: no 'commands:' list found in '${HYTRAIN} --help'")
endif()

# Each command's help as a preformatted block. roff: a backslash is written
# \e, a '-' is \- (a real minus, so options can be copied), and a line that
# starts with '.' or '\'' is protected by \&.
set(h2m "[COMMANDS]\nEach command's own help, as printed by \\fBhytrain\\fR \\fIcommand\\fR \\fB\\-\\-help\\fR.\n")
foreach(cmd IN LISTS commands)
  execute_process(COMMAND "${HYTRAIN}" ${cmd} --help RESULT_VARIABLE rc OUTPUT_VARIABLE text ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "man-page.cmake: '${HYTRAIN} ${cmd} --help' exited with ${rc}: ${err}")
  endif()
  string(REPLACE "\\" "\\e" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  string(REGEX REPLACE "\n+$" "" text "${text}")
  string(APPEND h2m ".SS \"${cmd}\"\n.nf\n${text}\n.fi\n")
endforeach()

get_filename_component(out_dir "${OUT}" DIRECTORY)
set(commands_h2m "${out_dir}/hytrain-commands.h2m")
file(WRITE "${commands_h2m}" "${h2m}")
execute_process(
  COMMAND "${HELP2MAN}" --no-info --section=1
          "--name=hybrid MPI + OpenMP data-parallel trainer for CPU clusters"
          "--include=${INCLUDE}" "--include=${commands_h2m}" "--output=${OUT}.tmp" "${HYTRAIN}"
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  file(REMOVE "${OUT}.tmp")
  message(FATAL_ERROR "man-page.cmake: help2man failed (${rc}): ${err}")
endif()
file(RENAME "${OUT}.tmp" "${OUT}")
