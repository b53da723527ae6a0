/**
 * The staging Job's program: fixed text, whatever the request. Everything it works on comes in
 * environment variables (EB_COUNT; for each file i: EB_URL_i, EB_FILE_i, and where known EB_SIZE_i,
 * EB_MD5_i, EB_SHA1_i, EB_SHA256_i, EB_SHA512_i, EB_HEADER_i from a Secret), so nothing a request
 * says is ever read as shell syntax. `eval` only builds variable names from the loop counter.
 * Needs sh, wget, wc and the *sum tools (busybox has them). Each file lands under its final name only
 * once its size and checksums match; "eb-staged <i> <bytes>" lines report progress to the worker.
 */
export const STAGING_SCRIPT = `set -eu
i=0
while [ "$i" -lt "$EB_COUNT" ]; do
  eval "url=\\"\\$EB_URL_$i\\" file=\\"\\$EB_FILE_$i\\" size=\\"\\\${EB_SIZE_$i:-}\\" header=\\"\\\${EB_HEADER_$i:-}\\""
  part="/data/$file.part"
  rm -f "$part"
  if [ -n "$header" ]; then wget -q -O "$part" --header "$header" "$url"; else wget -q -O "$part" "$url"; fi
  got=$(wc -c < "$part" | tr -d ' ')
  if [ -n "$size" ] && [ "$got" != "$size" ]; then echo "eb-failed $i: $got bytes where $size were expected" >&2; rm -f "$part"; exit 1; fi
  for tool in md5 sha1 sha256 sha512; do
    eval "want=\\"\\\${EB_$(echo "$tool" | tr a-z A-Z)_$i:-}\\""
    if [ -n "$want" ] && ! echo "$want  $part" | "\${tool}sum" -c -s -; then echo "eb-failed $i: $tool checksum does not match" >&2; rm -f "$part"; exit 1; fi
  done
  mv "$part" "/data/$file"
  echo "eb-staged $i $got"
  i=$((i + 1))
done
`;
