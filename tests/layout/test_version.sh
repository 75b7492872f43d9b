# tests/layout/test_version.sh - one version for everything heapsnap ships: the file
# VERSION is the source; `heapsnap --version`, the string each shim library carries,
# the Python package's metadata (python/setup.cfg) and the Debian package's
# changelog say the same.
want=$(cat VERSION 2>/dev/null)
if echo "$want" | grep -qxE '[0-9]+\.[0-9]+\.[0-9]+'; then t_pass version_file_is_x_y_z
else t_fail version_file_is_x_y_z "VERSION holds '$want'"; fi
got=$("$HEAPSNAP" --version | sed -n 's/^heapsnap \([^ ]*\) .*/\1/p')
[ "$got" = "$want" ] && t_pass version_cli_agrees || t_fail version_cli_agrees "heapsnap --version says '$got', VERSION '$want'"
bad=
for so in "$SHIM" "$(dirname "$SHIM")/libheapsnap-attach.so"; do
  grep -aq "heapsnap shim $want\$" <(strings "$so" 2>/dev/null) || bad="$bad $(basename "$so"): $(strings "$so" | grep -a 'heapsnap shim' | head -1)"
done
[ -z "$bad" ] && t_pass version_shim_agrees || t_fail version_shim_agrees "want 'heapsnap shim $want' in:$bad"
py=$(sed -n 's/^version *= *//p' python/setup.cfg)
[ "$py" = "$want" ] && t_pass version_python_agrees || t_fail version_python_agrees "python/setup.cfg says '$py', VERSION '$want'"
deb=$(sed -n '1s/^heapsnap (\([^)]*\)).*/\1/p' debian/changelog)
[ "$deb" = "$want" ] && t_pass version_debian_agrees || t_fail version_debian_agrees "debian/changelog says '$deb', VERSION '$want'"
