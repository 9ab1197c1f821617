# cmake --install into a temporary prefix (with a space in its path): every
# file is where the README says, the job scripts differ from jobs/ only in
# naming the installed binary, the man page holds every command's help, the
# modulefile names the prefix; DESTDIR stages the same tree under another root
# without changing the paths written into the files; a prefix that cannot be
# quoted is refused before anything is copied.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
P="$WORK/pre fix"
install_into "$P"

# The binary.
if [ -x "$P/bin/hytrain" ] && [ "$("$P/bin/hytrain" --version)" = "hytrain $HT_VERSION" ]; then
  pass "bin/hytrain --version: hytrain $HT_VERSION"
else
  fail "bin/hytrain missing or --version is not 'hytrain $HT_VERSION'"
fi

# Job scripts: the source script with installed_hytrain='' replaced by the
# installed binary's path, and nothing else changed.
n=0
for src in "$HT_SOURCE_DIR"/jobs/*.sbatch; do
  name=$(basename "$src")
  dst=$P/share/hytrain/jobs/$name
  n=$((n + 1))
  if [ ! -x "$dst" ]; then fail "share/hytrain/jobs/$name not installed or not executable"; continue; fi
  expected=$(sed "s|^installed_hytrain=''\$|installed_hytrain='$P/bin/hytrain'|" "$src")
  if [ "$expected" = "$(cat "$dst")" ] && grep -qxF "installed_hytrain='$P/bin/hytrain'" "$dst"; then
    pass "jobs/$name installed, naming $P/bin/hytrain"
  else
    fail "share/hytrain/jobs/$name differs from jobs/$name with the installed path filled in: $(diff <(echo "$expected") "$dst" | head -5)"
  fi
  bash -n "$dst" || fail "share/hytrain/jobs/$name: bash -n reports a syntax error"
  # The scripts that start several ranks end them all when one dies;
  # preemptible.sbatch cannot (its ranks exit 75 on purpose; see its header).
  case $name in
    preemptible.sbatch) ;;
    *)
      if ! grep -qE '^[^#]*\bsrun ' "$src" || grep -E '^[^#]*\bsrun ' "$src" | grep -qv -- '--kill-on-bad-exit=1'; then
        fail "jobs/$name: no srun line, or one without --kill-on-bad-exit=1"
      else
        pass "jobs/$name: srun --kill-on-bad-exit=1"
      fi ;;
  esac
done
[ "$n" -ge 4 ] || fail "only $n job scripts in $HT_SOURCE_DIR/jobs"

# Example configs and sweeps, README and docs: byte-identical copies.
for pair in "configs/*.yaml:share/hytrain/configs" "sweeps/*.yaml:share/hytrain/sweeps" \
            "README.md:share/doc/hytrain" "docs/*:share/doc/hytrain/docs"; do
  pattern=${pair%%:*} dir=${pair#*:}
  for src in "$HT_SOURCE_DIR"/$pattern; do
    name=$(basename "$src")
    if cmp -s "$src" "$P/$dir/$name"; then pass "$dir/$name"; else fail "$dir/$name missing or not a copy of $src"; fi
  done
done

# The man page: renders without warnings, and has a subsection for every
# command listed in `hytrain --help`.
need_man_page "$P"
if [ -s "$P/share/man/man1/hytrain.1" ]; then
  man --warnings -l "$P/share/man/man1/hytrain.1" >"$WORK/man.txt" 2>"$WORK/man.err" || fail "man -l hytrain.1 failed: $(cat "$WORK/man.err")"
  [ -s "$WORK/man.err" ] && fail "man --warnings reports: $(head -3 "$WORK/man.err")"
  cmds=$("$P/bin/hytrain" --help | sed -n '/^[Cc]ommands:/,/^$/p' | sed -n 's/^  \([a-z][a-z0-9-]*\).*/\1/p' | sort -u)
  [ -n "$cmds" ] || fail "no command list in hytrain --help"
  for c in $cmds; do
    first=$("$P/bin/hytrain" "$c" --help | head -1)
    if grep -qx "   $c" "$WORK/man.txt" && grep -qF -- "$first" "$WORK/man.txt"; then
      pass "man page: command $c with its help ('$first')"
    else
      fail "man page lacks command $c or its help line '$first'"
    fi
  done
  grep -q "^SYNOPSIS" "$WORK/man.txt" && grep -q "hytrain $HT_VERSION" "$WORK/man.txt" \
    && pass "man page has SYNOPSIS and version $HT_VERSION" || fail "man page lacks SYNOPSIS or 'hytrain $HT_VERSION'"
fi

# The modulefile.
mf=$P/share/modulefiles/hytrain/$HT_VERSION
if [ -s "$mf" ] && head -1 "$mf" | grep -q '^#%Module' \
  && grep -qxF "prepend-path PATH {$P/bin}" "$mf" && grep -qxF "prepend-path MANPATH {$P/share/man}" "$mf"; then
  pass "modulefile share/modulefiles/hytrain/$HT_VERSION prepends $P/bin and $P/share/man"
else
  fail "modulefile $mf missing or without the PATH/MANPATH lines for $P: $(cat "$mf" 2>/dev/null | tail -5)"
fi

# DESTDIR: files under the staging root, paths inside them without it.
DESTDIR="$WORK/stage" "$CMAKE_COMMAND" --install "$HT_BUILD_DIR" --prefix /opt/hytrain >"$WORK/destdir.log" 2>&1 \
  || fail "DESTDIR install failed: $(tail -3 "$WORK/destdir.log")"
S=$WORK/stage/opt/hytrain
if [ -x "$S/bin/hytrain" ] && grep -qxF "installed_hytrain='/opt/hytrain/bin/hytrain'" "$S/share/hytrain/jobs/train.sbatch" \
  && grep -qxF "prepend-path PATH {/opt/hytrain/bin}" "$S/share/modulefiles/hytrain/$HT_VERSION"; then
  pass "DESTDIR=$WORK/stage: files staged, job scripts and modulefile name /opt/hytrain"
else
  fail "DESTDIR install: $S lacks the binary, or the job script/modulefile do not name /opt/hytrain"
fi

# A prefix with a quote: refused with a message, nothing installed.
bad="$WORK/it's"
rc=0
"$CMAKE_COMMAND" --install "$HT_BUILD_DIR" --prefix "$bad" >"$WORK/bad.log" 2>&1 || rc=$?
msg=$(tr -s ' \n' ' ' <"$WORK/bad.log")
if [ "$rc" -ne 0 ] && [[ $msg == *"contains a quote"* ]] && [ ! -e "$bad" ]; then
  pass "prefix $bad refused before copying anything: ${msg#*CMake Error}"
else
  fail "prefix $bad: exit $rc, exists: $([ -e "$bad" ] && echo yes || echo no), log: $(tail -5 "$WORK/bad.log")"
fi
finish
