#!/usr/bin/env bash
# onnx-corpus.sh [DIR]: fetch the ONNX corpus (real third-party ONNX files
# from pinned npm packages, listed in engine/api/testdata/onnx-corpus.tsv)
# into DIR, a cache outside git (default: $COMPASS_ONNX_CORPUS, else
# $HOME/.cache/compass-go/onnx-corpus, else the repository's gitignored
# .cache/onnx-corpus), and print DIR on stdout.
#
# Each package tarball is fetched once with `npm pack` into DIR/tarballs and
# checked against the integrity the manifest pins (npm's sha512); each listed
# .onnx is extracted to DIR/<id>.onnx and checked against the manifest's
# sha256 and size. A file already present and matching is skipped, so a
# second run downloads nothing. Any download error or mismatch stops the
# script with a message naming the package or file.
#
# Use: export COMPASS_ONNX_CORPUS="$(bash scripts/onnx-corpus.sh)"
#      go test ./engine/api -run TestONNXCorpus -v
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
manifest="$here/engine/api/testdata/onnx-corpus.tsv"
default="$here/.cache/onnx-corpus" # gitignored; used when HOME is not set
[ -n "${HOME:-}" ] && default="$HOME/.cache/compass-go/onnx-corpus"
dir="${1:-${COMPASS_ONNX_CORPUS:-$default}}"

die() { echo "onnx-corpus: $*" >&2; exit 1; }
say() { echo "onnx-corpus: $*" >&2; }

for tool in npm node tar sha256sum; do
	command -v "$tool" >/dev/null || die "$tool is not installed (npm and node come with Node.js)"
done
[ -f "$manifest" ] || die "no manifest at $manifest"
mkdir -p "$dir/tarballs"
dir="$(cd "$dir" && pwd)"

# sri FILE: the file's npm integrity string, sha512-<base64>.
sri() {
	node -e 'const c=require("crypto"),f=require("fs");process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$1"
}

# ok FILE SHA256 BYTES: the file is present with that checksum and size.
ok() {
	[ -f "$1" ] && [ "$(stat -c %s "$1")" = "$3" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

# tarball PACKAGE VERSION INTEGRITY: fetch (once) and check a package's
# tarball; print its path.
tarball() {
	local pkg="$1" ver="$2" want="$3"
	local name="${pkg#@}"
	name="${name//\//-}-$ver.tgz"
	local tgz="$dir/tarballs/$name"
	if [ -f "$tgz" ] && [ "$(sri "$tgz")" = "$want" ]; then
		echo "$tgz"
		return
	fi
	say "downloading $pkg@$ver"
	local tmp
	tmp="$(mktemp -d "$dir/tarballs/.pack.XXXXXX")"
	if ! (cd "$tmp" && npm pack "$pkg@$ver" --silent >/dev/null 2>"$tmp/npm.err"); then
		cat "$tmp/npm.err" >&2
		rm -rf "$tmp"
		die "npm pack $pkg@$ver failed (is the npm registry reachable?)"
	fi
	local got
	got="$(ls "$tmp"/*.tgz 2>/dev/null | head -n1)"
	[ -n "$got" ] || { rm -rf "$tmp"; die "npm pack $pkg@$ver wrote no tarball"; }
	local sum
	sum="$(sri "$got")"
	if [ "$sum" != "$want" ]; then
		rm -rf "$tmp"
		die "$pkg@$ver: tarball integrity $sum, the manifest pins $want"
	fi
	mv "$got" "$tgz"
	rm -rf "$tmp"
	echo "$tgz"
}

# extract TGZ PATH OUT: write the file PATH of the tarball to OUT. A PATH
# of the form DIR/resources.json#KEY names a file that the package ships
# in chunks (as @imgly/background-removal-data does): the chunks that
# resources.json lists under KEY, in order, from DIR.
extract() {
	local tgz="$1" path="$2" out="$3"
	case "$path" in
	*'#'*) ;;
	*)
		tar -xzf "$tgz" -O "$path" >"$out" 2>/dev/null
		return
		;;
	esac
	local json="${path%%#*}" key="${path#*#}"
	local base
	base="$(dirname "$json")"
	local tmpd
	tmpd="$(mktemp -d "$dir/tarballs/.chunks.XXXXXX")"
	tar -xzf "$tgz" -C "$tmpd" "$json" 2>/dev/null || { rm -rf "$tmpd"; return 1; }
	local hashes
	hashes="$(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]))[process.argv[2]];if(!r)process.exit(1);for(const c of r.chunks)console.log(c.hash)' "$tmpd/$json" "$key")" || { rm -rf "$tmpd"; return 1; }
	local files=() h
	for h in $hashes; do files+=("$base/$h"); done
	tar -xzf "$tgz" -C "$tmpd" "${files[@]}" 2>/dev/null || { rm -rf "$tmpd"; return 1; }
	: >"$out"
	for h in $hashes; do cat "$tmpd/$base/$h" >>"$out"; done
	rm -rf "$tmpd"
}

start=$SECONDS
fetched=0
files=0
while IFS=$'\t' read -r id pkg ver integrity path sha bytes _rest; do
	case "$id" in '#'* | '' | id) continue ;; esac
	[ -n "$bytes" ] || die "manifest line for $id has too few columns"
	files=$((files + 1))
	out="$dir/$id.onnx"
	if ok "$out" "$sha" "$bytes"; then
		continue
	fi
	tgz="$(tarball "$pkg" "$ver" "$integrity")"
	tmp="$out.part"
	extract "$tgz" "$path" "$tmp" || { rm -f "$tmp"; die "$pkg@$ver has no $path"; }
	if ! ok "$tmp" "$sha" "$bytes"; then
		got="$(sha256sum "$tmp" | cut -d' ' -f1), $(stat -c %s "$tmp") bytes"
		rm -f "$tmp"
		die "$id ($pkg@$ver/$path): sha256 $got; the manifest pins $sha, $bytes bytes"
	fi
	mv "$tmp" "$out"
	fetched=$((fetched + 1))
done <"$manifest"
[ "$files" -gt 0 ] || die "the manifest lists no files"
say "$files files in $dir ($fetched extracted now, $((SECONDS - start)) s)"
echo "$dir"
