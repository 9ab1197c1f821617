# Runs at install time (from cmake_install.cmake, see cmake/install.cmake),
# when CMAKE_INSTALL_PREFIX is the final prefix (cmake --install --prefix P).
# Writes the job scripts with the installed binary's path filled in and the
# modulefile, into a staging directory of the build tree, then installs them
# with file(INSTALL), which honours DESTDIR and records them in
# install_manifest.txt.
#
# HT_INSTALL_STEP is `check` (the first install rule: only check the prefix)
# or `write` (the last one). Inputs of `write`: HT_JOB_SCRIPTS, HT_MODULEFILE_IN, HT_STAGE_DIR, HT_VERSION,
# HT_BINDIR, HT_DATADIR, HT_MANDIR, HT_DOCDIR (the last four may be relative
# to the prefix or absolute, as GNUInstallDirs allows).

# A directory under the prefix (DIR relative) or DIR itself (absolute).
function(ht_prefixed out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

get_filename_component(ht_prefix "${CMAKE_INSTALL_PREFIX}" ABSOLUTE)
set(CMAKE_INSTALL_PREFIX "${ht_prefix}")
# The paths go into single-quoted shell strings and brace-quoted Tcl words;
# these characters would end or break either quoting.
if(ht_prefix MATCHES "['\"{}\\\\$`]|\n")
  message(FATAL_ERROR "hytrain: the install prefix '${ht_prefix}' contains a quote, brace, backslash, "
                      "'$', '`' or newline, which the job scripts and the modulefile cannot hold; choose another prefix")
endif()
if(HT_INSTALL_STEP STREQUAL "check")
  return()
endif()
ht_prefixed(ht_bindir "${HT_BINDIR}")
ht_prefixed(ht_datadir "${HT_DATADIR}")
ht_prefixed(ht_mandir "${HT_MANDIR}")
ht_prefixed(ht_docdir "${HT_DOCDIR}")

# One staging directory per prefix, so two installs of one build tree into
# different prefixes at the same time do not overwrite each other's files.
string(MD5 ht_key "${ht_prefix}")
set(ht_stage "${HT_STAGE_DIR}/${ht_key}")
file(REMOVE_RECURSE "${ht_stage}")
file(MAKE_DIRECTORY "${ht_stage}/jobs" "${ht_stage}/modulefiles")

# Job scripts: `installed_hytrain=''` becomes the installed binary's path;
# each script then prefers that binary to build/hytrain or PATH.
set(ht_staged_jobs "")
foreach(script IN LISTS HT_JOB_SCRIPTS)
  get_filename_component(name "${script}" NAME)
  file(READ "${script}" text)
  string(FIND "${text}" "\ninstalled_hytrain=''\n" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "hytrain: ${script} has no line installed_hytrain='' for the installed binary's path")
  endif()
  string(REPLACE "\ninstalled_hytrain=''\n" "\ninstalled_hytrain='${ht_bindir}/hytrain'\n" text "${text}")
  file(WRITE "${ht_stage}/jobs/${name}" "${text}")
  list(APPEND ht_staged_jobs "${ht_stage}/jobs/${name}")
endforeach()
file(INSTALL DESTINATION "${ht_datadir}/hytrain/jobs" TYPE PROGRAM FILES ${ht_staged_jobs})

# The modulefile, named by version: `module load hytrain` picks the highest
# version found on MODULEPATH, `module load hytrain/<version>` one version.
set(HT_PREFIX "${ht_prefix}")
set(HT_BIN_DIR "${ht_bindir}")
set(HT_MAN_DIR "${ht_mandir}")
set(HT_DOC_DIR "${ht_docdir}")
set(HT_SHARE_DIR "${ht_datadir}/hytrain")
set(HT_MODULE_DIR "${ht_datadir}/modulefiles")
configure_file("${HT_MODULEFILE_IN}" "${ht_stage}/modulefiles/${HT_VERSION}" @ONLY)
file(INSTALL DESTINATION "${HT_MODULE_DIR}/hytrain" TYPE FILE FILES "${ht_stage}/modulefiles/${HT_VERSION}")
file(REMOVE_RECURSE "${ht_stage}")
