# Install: `cmake --install` of this build tree into a temporary prefix
# (tests/install/*.sh). install.layout checks the installed files;
# install.module_slurm loads the modulefile in a clean login shell and trains
# through the installed job script on a local SLURM cluster (scripts/slurm-local).
# Both write the build tree's install_manifest.txt, hence the resource lock.
function(ht_install_test name script)
  cmake_parse_arguments(T "" "TIMEOUT" "" ${ARGN})
  add_test(NAME install.${name} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/install/${script})
  set_tests_properties(install.${name} PROPERTIES TIMEOUT ${T_TIMEOUT}
    RESOURCE_LOCK hytrain_install_manifest
    ENVIRONMENT "${HT_TEST_ENV};CMAKE_COMMAND=${CMAKE_COMMAND};HT_BUILD_DIR=${PROJECT_BINARY_DIR};HT_VERSION=${PROJECT_VERSION}")
endfunction()
ht_install_test(layout layout.sh TIMEOUT 120)
ht_install_test(module_slurm module_slurm.sh TIMEOUT 400)
