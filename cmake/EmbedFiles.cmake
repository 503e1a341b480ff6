# gauntlet_embed_files(OUTPUT <file.cc> NAMESPACE <ns> FILES <f>...)
#
# Writes a C++ source that holds each file's content as a string_view keyed by
# its base name, so binaries carry their SQL migrations and web assets and never
# depend on the folder they were started from.
function(gauntlet_embed_files)
  cmake_parse_arguments(ARG "" "OUTPUT;NAMESPACE" "FILES" ${ARGN})
  set(script ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/embed_files_script.cmake)
  add_custom_command(
    OUTPUT ${ARG_OUTPUT}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${ARG_OUTPUT} -DNAMESPACE=${ARG_NAMESPACE}
            "-DFILES=${ARG_FILES}" -P ${script}
    DEPENDS ${ARG_FILES} ${script}
    COMMENT "Embedding ${ARG_NAMESPACE} files"
    VERBATIM)
endfunction()
