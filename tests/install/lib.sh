# Helpers for the install tests (sourced after tests/slurm/lib.sh or
# tests/e2e/lib.sh). CTest sets CMAKE_COMMAND, HT_BUILD_DIR and HT_VERSION.
: "${CMAKE_COMMAND:?}" "${HT_BUILD_DIR:?}" "${HT_VERSION:?}"

# install_into PREFIX: cmake --install of the build tree; fails the test
# (and stops it) when the install fails.
install_into() {
  if ! "$CMAKE_COMMAND" --install "$HT_BUILD_DIR" --prefix "$1" >"$WORK/install.log" 2>&1; then
    cat "$WORK/install.log" >&2
    fail "cmake --install $HT_BUILD_DIR --prefix $1 failed"
    finish
  fi
  pass "cmake --install --prefix $1 ($(grep -c Installing "$WORK/install.log") files)"
}

# need_man_page PREFIX: the man page is built only when help2man was found at
# configure time; say so instead of failing obscurely later.
need_man_page() {
  if [ ! -s "$1/share/man/man1/hytrain.1" ]; then
    fail "$1/share/man/man1/hytrain.1 was not installed: help2man was missing when $HT_BUILD_DIR was configured (run scripts/install-deps, then scripts/build again), or it is an HT_SANITIZE build, which makes no man page"
  fi
}
