# A static site never serves server-side source or dotfiles (issue 14, defect 6): files a
# customer uploads over FTPS as *.php (and its backups), .env, .git/, .htaccess, .htpasswd or
# any other dotfile or dot-directory, at any depth, answer 403 to a client on the customer
# network; ordinary files beside them still answer 200, and /.well-known/ stays served (ACME).
set -euo pipefail
D=policy.example.com IP=203.0.113.64

assert_exit 0 jc create "$D" --ip "$IP" --size 64M
parse_create_output
FTPS=(--ssl-reqd --insecure --user "$FTP_USER:$FTP_PASS" --ftp-create-dirs)
printf 'secret-%s\n' "$RANDOM$RANDOM" > "$SANDBOX_DIR/secret"
printf 'public\n' > "$SANDBOX_DIR/public"

FORBIDDEN=(config.php CONFIG.PHP index.php5 page.phtml app.phar config.php~ config.php.bak config.php.swp
           wp-config.php.orig config.php.1 sub/x.php
           x.php/extra .env .htaccess .htpasswd .git/config .git/HEAD a/.git/config a/b/.svn/entries
           .hidden sub/.env .well-known/.htaccess .ssh/authorized_keys)
ALLOWED=(index2.html sub/page.html a/b/c.txt phpinfo.html my.php.html .well-known/pki-validation/token1
         .well-known/security.txt)

info "upload over FTPS from the customer network"
for f in "${FORBIDDEN[@]}"; do
  [ "$f" = x.php/extra ] && continue   # a path-info URL, not a file
  client_curl "${FTPS[@]}" -T "$SANDBOX_DIR/secret" "ftp://$IP/www/$f"
done
for f in "${ALLOWED[@]}"; do client_curl "${FTPS[@]}" -T "$SANDBOX_DIR/public" "ftp://$IP/www/$f"; done

status_of() { client_curl -o "$SANDBOX_DIR/body" -w '%{http_code}' -H "Host: $D" "http://$IP/$1"; }

info "403 for source, dotfiles and dot-directories at any depth"
for f in "${FORBIDDEN[@]}"; do
  assert_eq 403 "$(status_of "$f")" "HTTP status of /$f"
  ! grep -q secret- "$SANDBOX_DIR/body" || fail "/$f leaked its content"
done
for d in .git/ a/.git/ .git sub/.env/; do
  assert_eq 403 "$(status_of "$d")" "HTTP status of /$d"
done
info "200 for ordinary files and /.well-known/"
for f in "${ALLOWED[@]}"; do
  assert_eq 200 "$(status_of "$f")" "HTTP status of /$f"
  assert_eq public "$(cat "$SANDBOX_DIR/body")" "body of /$f"
done
assert_eq 200 "$(status_of "")" "HTTP status of /"
assert_eq 404 "$(status_of nothing.html)" "HTTP status of a missing file"
info "the same with the www. name and the bare address"
assert_eq 403 "$(client_curl -o /dev/null -w '%{http_code}' -H "Host: www.$D" "http://$IP/.env")" "www.: /.env"
assert_eq 403 "$(client_curl -o /dev/null -w '%{http_code}' "http://$IP/config.php")" "by address: /config.php"

assert_exit 0 jc test "$D"
echo "PASS site_policy"
