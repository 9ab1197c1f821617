# Install rules: `cmake --install build --prefix P` puts
#   P/bin/hytrain                          the binary
#   P/share/hytrain/jobs/*.sbatch          the SLURM job scripts, naming P/bin/hytrain
#   P/share/hytrain/configs, sweeps        the example experiments
#   P/share/doc/hytrain/                   README.md and docs/ (links between them still work)
#   P/share/man/man1/hytrain.1             the man page, made at build time by help2man
#   P/share/modulefiles/hytrain/<version>  a Tcl modulefile (Environment Modules and Lmod)
# The prefix is only known at install time (--prefix overrides
# CMAKE_INSTALL_PREFIX then), so the job scripts and the modulefile are
# written by install-time code (cmake/install-prefixed.cmake), not at configure time.
include(GNUInstallDirs)

# First of all, before any file is copied: a prefix the job scripts and the
# modulefile could not quote stops the install (see install-prefixed.cmake).
install(CODE "
  set(HT_INSTALL_STEP check)
  include(\"${PROJECT_SOURCE_DIR}/cmake/install-prefixed.cmake\")
")

install(TARGETS hytrain RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(DIRECTORY configs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/hytrain/configs FILES_MATCHING PATTERN "*.yaml")
install(DIRECTORY sweeps/ DESTINATION ${CMAKE_INSTALL_DATADIR}/hytrain/sweeps FILES_MATCHING PATTERN "*.yaml")
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The man page: help2man runs the freshly built binary's --help and
# --version, and cmake/man-page.cmake adds every command's own --help text.
# Sanitizer builds skip it: their binary may not even start outside the
# tests' setup (ThreadSanitizer needs ASLR off), and nobody installs them.
find_program(HT_HELP2MAN help2man)
if(HT_SANITIZE)
  message(STATUS "HT_SANITIZE=${HT_SANITIZE}: the man page hytrain.1 is not built or installed")
elseif(HT_HELP2MAN)
  set(HT_MAN_PAGE ${CMAKE_BINARY_DIR}/hytrain.1)
  add_custom_command(OUTPUT ${HT_MAN_PAGE}
    COMMAND ${CMAKE_COMMAND} -DHYTRAIN=$<TARGET_FILE:hytrain> -DHELP2MAN=${HT_HELP2MAN}
            -DINCLUDE=${PROJECT_SOURCE_DIR}/cmake/hytrain.h2m -DOUT=${HT_MAN_PAGE}
            -P ${PROJECT_SOURCE_DIR}/cmake/man-page.cmake
    DEPENDS hytrain ${PROJECT_SOURCE_DIR}/cmake/man-page.cmake ${PROJECT_SOURCE_DIR}/cmake/hytrain.h2m
    COMMENT "Generating the man page hytrain.1 with help2man"
    VERBATIM)
  add_custom_target(hytrain_man ALL DEPENDS ${HT_MAN_PAGE})
  install(FILES ${HT_MAN_PAGE} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "help2man not found: the man page hytrain.1 is not built or installed "
                 "(install the Debian package help2man, e.g. with scripts/install-deps, and re-run cmake)")
endif()

# Job scripts and the modulefile name the install prefix; install-prefixed.cmake
# writes them at install time into a staging directory and installs them from there.
file(GLOB HT_JOB_SCRIPTS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/jobs/*.sbatch)
install(CODE "
  set(HT_INSTALL_STEP write)
  set(HT_JOB_SCRIPTS \"${HT_JOB_SCRIPTS}\")
  set(HT_MODULEFILE_IN \"${PROJECT_SOURCE_DIR}/cmake/modulefile.tcl.in\")
  set(HT_STAGE_DIR \"${CMAKE_BINARY_DIR}/install-stage\")
  set(HT_VERSION \"${PROJECT_VERSION}\")
  set(HT_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
  set(HT_DATADIR \"${CMAKE_INSTALL_DATADIR}\")
  set(HT_MANDIR \"${CMAKE_INSTALL_MANDIR}\")
  set(HT_DOCDIR \"${CMAKE_INSTALL_DOCDIR}\")
  include(\"${PROJECT_SOURCE_DIR}/cmake/install-prefixed.cmake\")
")
