#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seed inputs (docs/fuzzing.md):
# - split, directives: the migration *.sql files of the real-world corpora (KEEL_CORPORA, default
#   ../shared/corpora beside the repository; the `_applied/` schema dumps left out) and the
#   hand-written seeds in fuzz/seeds/split/ and fuzz/seeds/directives/, cut at line ends into
#   pieces of at most KEEL_FUZZ_CHUNK bytes (default 512; a longer line is a piece of its own),
#   so that every statement of a long file is in some short seed. The split target reads its
#   first byte as the dialect, so each split seed is written three times, after `0`
#   (PostgreSQL), `1` (MySQL) and `2` (SQLite);
# - url, settings: the hand-written seeds in fuzz/seeds/<target>/.
# Seeds are named `seed-…` after their source (libFuzzer names what it finds by content hash), so
# re-running rewrites the same files and never removes what a fuzzer found. The corpora are
# copied at run time only: fuzz/corpus is gitignored.
set -euo pipefail
export LC_ALL=C

fuzz_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$fuzz_dir")
corpora=${KEEL_CORPORA:-$repo_dir/../shared/corpora}
chunk=${KEEL_FUZZ_CHUNK:-512}
corpus=$fuzz_dir/corpus

for target in split url settings directives; do
  mkdir -p "$corpus/$target"
done
for target in url settings; do
  for f in "$fuzz_dir/seeds/$target"/*; do
    [ -f "$f" ] && cp "$f" "$corpus/$target/seed-hand-$(basename "$f")"
  done
done

if [ -d "$corpora" ]; then
  find "$corpora" -type d -name _applied -prune -o -type f -name '*.sql' -print | sort
else
  echo "seed: no corpora at $corpora (set KEEL_CORPORA); hand-written seeds only" >&2
fi >"$corpus/.sources"
find "$fuzz_dir/seeds/split" "$fuzz_dir/seeds/directives" -type f | sort >>"$corpus/.sources"

# One awk for all files (paths may hold spaces, not newlines).
awk -v corpora="$corpora/" -v seeds="$fuzz_dir/seeds/" -v corpus="$corpus" -v max="$chunk" '
  function emit(   out, d) {
    if (buf == "") return
    n++; pieces++
    out = corpus "/directives/" name "." n; printf "%s", buf > out; close(out)
    for (d = 0; d < 3; d++) { out = corpus "/split/" name "." n "-" d; printf "%s%s", d, buf > out; close(out) }
    buf = ""
  }
  {
    files++; f = $0; name = f
    if (index(name, corpora) == 1) name = substr(name, length(corpora) + 1)
    else if (index(name, seeds) == 1) name = "hand-" substr(name, length(seeds) + 1)
    gsub("/", "__", name); name = "seed-" name
    buf = ""; n = 0
    while ((getline line < f) > 0) {
      if (buf != "" && length(buf) + length(line) + 1 > max) emit()
      buf = buf line "\n"
    }
    close(f); emit()
  }
  END { printf "seed: %d files, %d pieces (from %s)\n", files, pieces, corpora > "/dev/stderr" }' \
  "$corpus/.sources"
rm -f "$corpus/.sources"

for target in split url settings directives; do
  echo "seed: corpus/$target: $(find "$corpus/$target" -type f | wc -l) files" >&2
done
