# bench/lib.sh: what bench/run and bench/pair share, sourced by both. Each defines log first.

# need PACKAGE [COMMAND...]: installs Debian's PACKAGE with apt-get when one of the commands
# (default: the package's name) is missing.
need() {
	local pkg=$1 cmd
	shift
	for cmd in "${@:-$pkg}"; do
		command -v "$cmd" >/dev/null 2>&1 && continue
		log "installing $pkg with apt-get"
		apt-get install -y "$pkg" >&2 || { apt-get update >&2 && apt-get install -y "$pkg" >&2; }
		return
	done
}

# wait_http URL: waits up to a minute for URL to answer with a 2xx.
wait_http() {
	for _ in $(seq 1 600); do
		curl -sf -o /dev/null "$1" && return 0
		sleep 0.1
	done
	log "$1 did not answer"
	return 1
}

# durable URL: makes the throwaway cluster at URL durable again, as a production database
# is: scripts/postgres-start turns fsync off for tests, and SQLite runs with
# synchronous=FULL.
durable() {
	psql -X -q "$1" -c "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET synchronous_commit = on" \
		-c "ALTER SYSTEM SET full_page_writes = on" -c "SELECT pg_reload_conf()" >&2
}
