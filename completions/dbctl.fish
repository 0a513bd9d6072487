# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_dbctl_global_optspecs
    string join \n home= catalog= o/output= h/help V/version
end

function __fish_dbctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_dbctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_dbctl_using_subcommand
    set -l cmd (__fish_dbctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c dbctl -n "__fish_dbctl_needs_command" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_needs_command" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_needs_command" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_needs_command" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_needs_command" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "init" -d 'Create dbctl\'s home (catalog, config, secrets) and register this machine as host `local`'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "host" -d 'Manage hosts (machines running dbhost)'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "create" -d 'Create a database instance: initialize, configure from its class, start, make an admin role'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "clone" -d 'Clone an instance: a full, independent copy (own port, endpoint, password), of any class, on any host, while the source keeps serving'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "restore" -d 'Restore an instance as of a point in time: its newest snapshot before the target plus its archived logs up to the target, verified as they are used. Into a new instance (--as NEW), or in place (--in-place), keeping its name, port and endpoint'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "recover" -d 'Recover an instance: a new server from its newest snapshot plus all its archived logs (or up to --at / --position), on the host that keeps them. The new server takes over the name and endpoint (running the endpoint hook); the old one is marked replaced'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "restorable-window" -d 'Show the span of time an instance can be restored to: from its oldest kept snapshot to its newest archived commit, with any span inside that no log chain reaches. On a terminal, a timeline follows: snapshots as ticks per tier, what can be restored as a bar, holes marked, now at the right edge (`-o json` is the same data without the picture)'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "delete" -d 'Delete an instance: stop it and remove all its data from its host'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "stop" -d 'Stop an instance\'s server, keeping its data on its host'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "start" -d 'Start a stopped instance\'s server'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "reboot" -d 'Stop and start an instance\'s server'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "hibernate" -d 'Hibernate an instance: a final snapshot (also into its repository when it has one), its last commits archived, then its server and data directory go and its host\'s room is free. No time limit; nothing resumes it on its own'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "resume" -d 'Resume a hibernated instance on any host with room (the one it hibernated on when it still fits), with every commit it had, and move its endpoint there'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "modify" -d 'Change an instance\'s class, storage, archive timeout, windows or monitor policy. A class change restarts the server, so it waits for the maintenance window (`describe` lists it as pending) unless --apply-immediately; everything else applies now. A class its host has no room for moves the instance to a host that has it (snapshot, restore with every log, the endpoint moved, the old copy retired), and the downtime is reported'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "protect" -d 'Keep an instance that would delete itself (`clone --expires-in`, `--delete-when-idle`): for good, until a time, or no longer (--off). Its expiry stays recorded and applies again once the protection ends'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "describe" -d 'Show an instance: status, engine and version, class, host, endpoint, last workflow'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "check" -d 'Check an instance\'s data: the engine\'s own integrity checks over every database (PostgreSQL: pg_amcheck with --heapallindexed, installing the amcheck extension where it is missing; MariaDB: CHECK TABLE ... EXTENDED through mariadb-check), then each query in --sql FILE, which must return true or at least one row. Exits 1 when anything fails'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "repartition" -d 'Split a PostgreSQL database into N shards: one snapshot of SOURCE (it keeps serving) is cloned N times at once (PREFIX-1 .. PREFIX-N, across --hosts in turn), and in each clone the keyed tables keep only their rows of that shard; other tables stay whole (reference data). A row goes to shard 1 plus mod(mod(hashtextextended(coalesce(key::text, \'\'), 0), N) + N, N): PostgreSQL\'s 64-bit hash of the key\'s text. With --ranges, the key\'s N-quantiles cut it instead. Each shard is vacuumed, then verified against the source at the clone point: the shards\' keyed rows are disjoint and add up to the source\'s in count and checksum, and every unkeyed table is whole in each. Exits 1 when the verification fails'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "drill" -d 'Restore an instance into a scratch instance and prove the copy is whole: the engine\'s integrity checks (as `dbctl check`) and the DBA\'s queries on it, how long the restore took (RTO) and how far its newest point lay behind the source\'s newest commit (RPO); the scratch instance is removed afterwards. Every drill is recorded (`dbctl drill list`) and is an event; a failed one runs `[monitor] hook` and exits 1'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "list" -d 'List instances'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "url" -d 'Print a connection URL with the admin credentials (for an application\'s settings; to open a session use `dbctl connect`, which keeps the password off command lines)'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "connect" -d 'Open the engine\'s client (psql, mariadb) on an instance as its admin role. The credentials travel in the client\'s environment, never on its command line (which every local user can read); arguments after `--` go to the client'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "snapshot" -d 'Take, list, inspect, check and delete snapshots'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "endpoint" -d 'Endpoints: stable names that follow an instance when recovery moves it'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "repository" -d 'Manage backup repositories (the off-host tier: encrypted, compressed, deduplicated)'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "backup" -d 'Back up instances into repositories, list, show, pin and delete backups'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "schedule" -d 'Schedule snapshots, backups, hibernation, resume, stop and start; `dbctl sweep` fires what is due'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "workflow" -d 'Inspect and drive workflows (the persisted step lists behind changing commands)'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "catalog" -d 'The catalog: moving it to PostgreSQL (or back), and the team key that seals a shared catalog\'s secrets'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "events" -d 'Show events (created, deleted, failed steps, hosts added, ...), oldest first. Kept for `[events] retention_days` (config.toml, default 90); `sweep` removes older ones'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "sweep" -d 'Fire the schedules due (`dbctl schedule`), queue the backups due (an instance inside its backup window without one since it opened), run every queued workflow and resume every one whose runner is gone, ship every instance\'s new archived logs into its backup repository, expire what backup policies no longer keep, then exit'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "daemon" -d 'Run in the foreground (under systemd: fixtures/dbctl-daemon.service): every interval, one pass as `dbctl sweep` makes it (schedules, periodic backups, queued and abandoned workflows, log shipping, expiry). Several daemons and operators may share one catalog: each workflow, schedule run and instance\'s shipping or expiry is claimed by one of them, and a claim whose holder died lapses. Besides, the monitor checks every running instance every `[monitor] interval_secs` and restarts or rebuilds a failed one by its policy (see `describe`\'s health). One log line a pass that did something and one per change of health, JSON when stdout is not a terminal. Stops after the pass under way on SIGINT or SIGTERM'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "monitor" -d 'Check every running instance and every host now, as the daemon\'s monitor does: each host asked for its facts and its instances\' status (`[monitor] concurrency` at a time, a host silent for `[monitor] check_timeout_secs` counted as not answering), a verdict after the failure budget, and the instance\'s failure policy applied (a recovery it starts runs before the next pass). With `--passes`, the SSH session to each host stays open between passes, as in the daemon'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "generate-docs" -d 'Write shell completions and man pages'
complete -c dbctl -n "__fish_dbctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbctl -n "__fish_dbctl_using_subcommand init" -l local-root -d 'dbhost\'s root directory for the local host [default: /var/lib/dbhost as root, else HOME/host]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand init" -l local-address -d 'Address clients use to reach instances on this machine (servers listen on it) [default: 127.0.0.1]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand init" -l local-ports -d 'Ports the local host picks from, as LOW-HIGH' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand init" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand init" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand init" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbctl -n "__fish_dbctl_using_subcommand init" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and not __fish_seen_subcommand_from add list show refresh remove prune help" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and not __fish_seen_subcommand_from add list show refresh remove prune help" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and not __fish_seen_subcommand_from add list show refresh remove prune help" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and not __fish_seen_subcommand_from add list show refresh remove prune help" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and not __fish_seen_subcommand_from add list show refresh remove prune help" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and not __fish_seen_subcommand_from add list show refresh remove prune help" -f -a "add" -d 'Register a host reached over SSH: pins its host key on first contact and stores its facts'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and not __fish_seen_subcommand_from add list show refresh remove prune help" -f -a "list" -d 'List hosts with their capacity and engines'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and not __fish_seen_subcommand_from add list show refresh remove prune help" -f -a "show" -d 'Show one host: how it is reached, its pinned key, dbhost version and facts'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and not __fish_seen_subcommand_from add list show refresh remove prune help" -f -a "refresh" -d 'Ask a host for its facts again (checking its pinned key) and store them'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and not __fish_seen_subcommand_from add list show refresh remove prune help" -f -a "remove" -d 'Forget a host. Refused while instances live there'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and not __fish_seen_subcommand_from add list show refresh remove prune help" -f -a "prune" -d 'Remove data that recoveries and in-place restores set aside on a host'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and not __fish_seen_subcommand_from add list show refresh remove prune help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from add" -l address -d 'Address or DNS name of the host; instances there are reached at this address too' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from add" -l port -d 'SSH port' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from add" -l user -d 'SSH user [default: the current user]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from add" -l identity -d 'Private key file (ed25519 or RSA) [default: ~/.ssh/id_ed25519, then ~/.ssh/id_rsa]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from add" -l label -d 'A label KEY=VALUE (repeatable), to find it by (`host list --label`)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from add" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from add" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from add" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from add" -l dry-run -d 'Connect and show what would be stored (key, facts), storing nothing'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from list" -l label -d 'Only those carrying this label KEY=VALUE (repeatable: all of them)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from list" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from list" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from list" -l refresh -d 'Ask every host for its facts first (many at once: `[monitor] concurrency`), showing which answered and how fast'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from show" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from show" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from refresh" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from refresh" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from refresh" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from refresh" -l accept-new-key -d 'Pin the SSH host key the host offers now in place of the old one (both fingerprints are printed); check the new one out of band first'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from refresh" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from refresh" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from remove" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from remove" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from remove" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from remove" -l dry-run -d 'Check that it could be removed, removing nothing'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from remove" -l force -d 'For a host that is gone for good: forget it even though instances or snapshots are there, marking them lost (nothing on the host is touched)'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from prune" -l older-than -d 'Only what was set aside at least this many days ago' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from prune" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from prune" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from prune" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from prune" -l dry-run -d 'Say what would be removed, removing nothing'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from prune" -s y -l yes -d 'Remove without asking'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from prune" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from help" -f -a "add" -d 'Register a host reached over SSH: pins its host key on first contact and stores its facts'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from help" -f -a "list" -d 'List hosts with their capacity and engines'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one host: how it is reached, its pinned key, dbhost version and facts'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from help" -f -a "refresh" -d 'Ask a host for its facts again (checking its pinned key) and store them'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Forget a host. Refused while instances live there'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from help" -f -a "prune" -d 'Remove data that recoveries and in-place restores set aside on a host'
complete -c dbctl -n "__fish_dbctl_using_subcommand host; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -l engine -d 'Database engine' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -l class -d 'Instance class (small, medium, large, or one from config.toml)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -l host -d 'Host to place it on [default: chosen by placement]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -l storage-gb -d 'Storage to reserve, in GiB [default: the class\'s]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -l port -d 'Port the server listens on [default: a free one from the host\'s range]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -l admin-user -d 'Name of the admin role created with a generated password' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -l archive-timeout -d 'Longest a commit may wait before its log is archived, in seconds (bounds what a recovery can lose)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -l backup-repository -d 'The repository its backups and logs go to; `dbctl sweep` ships its new archived logs there each time it runs' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -l backup-window -d 'When (UTC, HH:MM-HH:MM) sweep takes its daily backup, or `none` [default: 02:00-03:00]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -l backup-retention-days -d 'Days of point-in-time recovery kept in the repository, 0-35 [default: 7]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -l keep-daily -d 'Daily backups kept beyond the retention days [default: 7]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -l keep-weekly -d 'Weekly backups kept [default: 4]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -l keep-monthly -d 'Monthly backups kept [default: 0]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -l label -d 'A label KEY=VALUE (repeatable), to find it by (`list --label`)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -l maintenance-window -d 'Weekly window ddd:HH:MM-ddd:HH:MM (UTC) for changes that need a restart, or `none` [default: none: they wait for --apply-immediately]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -l snapshot-interval -d 'Minutes between automatic host-tier snapshots (0: none) [default: 15]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -l on-failure -d 'What the monitor does when the instance fails: recover or notify [default: recover]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -l dry-run -d 'Print the plan (the steps that would run) and change nothing'
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -l detach -d 'Queue the workflow and return its id; `dbctl sweep` runs it'
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbctl -n "__fish_dbctl_using_subcommand create" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -l as -d 'Name of the new instance' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -l class -d 'Class of the clone [default: the source\'s]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -l host -d 'Host for the clone [default: chosen by placement]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -l storage-gb -d 'Storage to reserve, in GiB [default: the larger of the class\'s and the source\'s]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -l port -d 'Port the clone listens on [default: a free one from the host\'s range]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -l snapshot -d 'Clone from this snapshot of the source' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -l backup -d 'Restore from this backup (`dbctl backup list`); implies --from-repository' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -l at -d 'A time: RFC 3339, "YYYY-MM-DD HH:MM:SS" (UTC), "now" or "N minutes ago"; echoed as UTC' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -l position -d 'A log position as the engine writes it (PostgreSQL: an LSN, e.g. 0/3000060; MariaDB: a GTID, e.g. 0-1-42, or a binary log file and offset, e.g. binlog.000003:1234)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -l lsn -d 'PostgreSQL only: an LSN, as --position takes it' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -l label -d 'A label KEY=VALUE (repeatable), to find it by (`list --label`)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -l expires-in -d 'Delete the clone this long after it is made (e.g. 8h, 2d), unless it is protected (`dbctl protect`); the daemon\'s pass (or `sweep`) deletes it' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -l delete-when-idle -d 'Delete the clone once no client has been connected to it for this long (e.g. 2h), as the monitor sees it, unless it is protected' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -l engine -d 'Clone into another engine: a MariaDB source into a new PostgreSQL instance. A scratch clone of the source (at --at or --snapshot; else the latest point, or a new snapshot when it has none) is carried over by pgloader on this machine, every table\'s rows are counted and checksummed on both sides, and the scratch clone is removed; a copy that does not add up is deleted. What pgloader does not carry (triggers, routines, views, events) is listed' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -l fresh -d 'Take a new snapshot of the source first'
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -l from-repository -d 'Restore from the source\'s newest backup in a repository instead of a host\'s snapshot (what is left when its host is gone)'
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -l latest -d 'The latest commit (on a running source, including what was not yet archived)'
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -l final-snapshot-on-expiry -d 'When it expires, take a final snapshot before deleting it (none by default)'
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -l dry-run -d 'Print the plan (the steps that would run) and change nothing'
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -l detach -d 'Queue the workflow and return its id; `dbctl sweep` runs it'
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbctl -n "__fish_dbctl_using_subcommand clone" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand restore" -l as -d 'Name of the new instance' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand restore" -l at -d 'A time: RFC 3339, "YYYY-MM-DD HH:MM:SS" (UTC), "now" or "N minutes ago"; echoed as UTC' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand restore" -l position -d 'A log position as the engine writes it (PostgreSQL: an LSN, e.g. 0/3000060; MariaDB: a GTID, e.g. 0-1-42, or a binary log file and offset, e.g. binlog.000003:1234)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand restore" -l lsn -d 'PostgreSQL only: an LSN, as --position takes it' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand restore" -l class -d 'Class of the new instance [default: the source\'s]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand restore" -l host -d 'Host for the new instance [default: the source\'s, where its logs are]; another host receives the snapshot and the logs streamed through dbctl' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand restore" -l storage-gb -d 'Storage to reserve, in GiB [default: the larger of the class\'s and the source\'s]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand restore" -l port -d 'Port the new instance listens on [default: a free one]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand restore" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand restore" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand restore" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand restore" -l in-place -d 'Replace the instance\'s own data (the old data is kept until the restore succeeds)'
complete -c dbctl -n "__fish_dbctl_using_subcommand restore" -s y -l yes -d 'With --in-place: do not ask for confirmation'
complete -c dbctl -n "__fish_dbctl_using_subcommand restore" -l latest -d 'The latest commit (on a running source, including what was not yet archived)'
complete -c dbctl -n "__fish_dbctl_using_subcommand restore" -l from-repository -d 'From the instance\'s backup and shipped logs in a repository, not its host\'s snapshot and archive (which are used first otherwise, where they reach the target)'
complete -c dbctl -n "__fish_dbctl_using_subcommand restore" -l dry-run -d 'Print the plan (the steps that would run) and change nothing'
complete -c dbctl -n "__fish_dbctl_using_subcommand restore" -l detach -d 'Queue the workflow and return its id; `dbctl sweep` runs it'
complete -c dbctl -n "__fish_dbctl_using_subcommand restore" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand restore" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand recover" -l at -d 'Recover to this time instead of the latest (e.g. just before a bad change)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand recover" -l position -d 'Recover to this log position, as the engine writes it (PostgreSQL: an LSN, e.g. 0/3000060; MariaDB: a GTID, e.g. 0-1-42, or binlog.000003:1234)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand recover" -l lsn -d 'PostgreSQL only: an LSN, as --position takes it' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand recover" -l host -d 'Rebuild on this host instead: the snapshot and logs are streamed there from the host that keeps them, or, when that host is gone or does not answer, from the instance\'s backup and shipped logs in a repository (its old server cannot be stopped then: make sure it is down)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand recover" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand recover" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand recover" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand recover" -l before-error -d 'Recover to just before the first error the monitor recorded for the incident the instance is in (a second before it; the latest point if the logs end earlier)'
complete -c dbctl -n "__fish_dbctl_using_subcommand recover" -l from-repository -d 'Rebuild from the repository even though the old host answers'
complete -c dbctl -n "__fish_dbctl_using_subcommand recover" -s y -l yes -d 'Recover even though the instance still answers queries (it is stopped, its last commits archived, and it is rebuilt); asked on a terminal otherwise'
complete -c dbctl -n "__fish_dbctl_using_subcommand recover" -l dry-run -d 'Print the plan (the steps that would run) and change nothing'
complete -c dbctl -n "__fish_dbctl_using_subcommand recover" -l detach -d 'Queue the workflow and return its id; `dbctl sweep` runs it'
complete -c dbctl -n "__fish_dbctl_using_subcommand recover" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand recover" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand restorable-window" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand restorable-window" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand restorable-window" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand restorable-window" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand restorable-window" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand delete" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand delete" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand delete" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand delete" -s y -l yes -d 'Delete without asking'
complete -c dbctl -n "__fish_dbctl_using_subcommand delete" -l skip-final-snapshot -d 'Do not take a final snapshot first (by default one is taken and kept after the instance is gone)'
complete -c dbctl -n "__fish_dbctl_using_subcommand delete" -l dry-run -d 'Print the plan (the steps that would run) and change nothing'
complete -c dbctl -n "__fish_dbctl_using_subcommand delete" -l detach -d 'Queue the workflow and return its id; `dbctl sweep` runs it'
complete -c dbctl -n "__fish_dbctl_using_subcommand delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbctl -n "__fish_dbctl_using_subcommand delete" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand stop" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand stop" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand stop" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand stop" -l dry-run -d 'Print the plan (the steps that would run) and change nothing'
complete -c dbctl -n "__fish_dbctl_using_subcommand stop" -l detach -d 'Queue the workflow and return its id; `dbctl sweep` runs it'
complete -c dbctl -n "__fish_dbctl_using_subcommand stop" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand stop" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand start" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand start" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand start" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand start" -l dry-run -d 'Print the plan (the steps that would run) and change nothing'
complete -c dbctl -n "__fish_dbctl_using_subcommand start" -l detach -d 'Queue the workflow and return its id; `dbctl sweep` runs it'
complete -c dbctl -n "__fish_dbctl_using_subcommand start" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand start" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand reboot" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand reboot" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand reboot" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand reboot" -l dry-run -d 'Print the plan (the steps that would run) and change nothing'
complete -c dbctl -n "__fish_dbctl_using_subcommand reboot" -l detach -d 'Queue the workflow and return its id; `dbctl sweep` runs it'
complete -c dbctl -n "__fish_dbctl_using_subcommand reboot" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand reboot" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand hibernate" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand hibernate" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand hibernate" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand hibernate" -l dry-run -d 'Print the plan (the steps that would run) and change nothing'
complete -c dbctl -n "__fish_dbctl_using_subcommand hibernate" -l detach -d 'Queue the workflow and return its id; `dbctl sweep` runs it'
complete -c dbctl -n "__fish_dbctl_using_subcommand hibernate" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand hibernate" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand resume" -l host -d 'Host to resume on [default: the one it hibernated on if it fits, else placement\'s]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand resume" -l class -d 'Class to resume with [default: its own]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand resume" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand resume" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand resume" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand resume" -l dry-run -d 'Print the plan (the steps that would run) and change nothing'
complete -c dbctl -n "__fish_dbctl_using_subcommand resume" -l detach -d 'Queue the workflow and return its id; `dbctl sweep` runs it'
complete -c dbctl -n "__fish_dbctl_using_subcommand resume" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand resume" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand modify" -l class -d 'New class (a restart; in the maintenance window unless --apply-immediately)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand modify" -l storage-gb -d 'More storage in GiB (never less)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand modify" -l archive-timeout -d 'Longest a commit may wait before its log is archived, in seconds (1-3600)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand modify" -l backup-window -d 'Daily backup window HH:MM-HH:MM (UTC), or `none` (needs a backup policy)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand modify" -l backup-retention-days -d 'Days of point-in-time recovery the repository keeps (0-35; needs a backup policy)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand modify" -l maintenance-window -d 'Weekly window ddd:HH:MM-ddd:HH:MM (UTC) for changes that need a restart, or `none` [default: none: they wait for --apply-immediately]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand modify" -l snapshot-interval -d 'Minutes between automatic host-tier snapshots (0: none) [default: 15]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand modify" -l on-failure -d 'What the monitor does when the instance fails: recover or notify [default: recover]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand modify" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand modify" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand modify" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand modify" -l apply-immediately -d 'Apply now, with what is pending; alone, applies only what is pending'
complete -c dbctl -n "__fish_dbctl_using_subcommand modify" -l dry-run -d 'Print the plan (the steps that would run) and change nothing'
complete -c dbctl -n "__fish_dbctl_using_subcommand modify" -l detach -d 'Queue the workflow and return its id; `dbctl sweep` runs it'
complete -c dbctl -n "__fish_dbctl_using_subcommand modify" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand modify" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand protect" -l until -d 'Until this time: RFC 3339, "YYYY-MM-DD HH:MM:SS" (UTC), or a duration from now (8h, 2d) [default: for good]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand protect" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand protect" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand protect" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand protect" -l off -d 'Take the protection away'
complete -c dbctl -n "__fish_dbctl_using_subcommand protect" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand protect" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand describe" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand describe" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand describe" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand describe" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand describe" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand check" -l sql -d 'A file of queries separated by `;`; each must return true or at least one row' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand check" -l database -d 'The database the queries run in [default: postgres, or none for MariaDB]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand check" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand check" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand check" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand check" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand check" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand repartition" -l shards -d 'How many shards' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand repartition" -l key -d 'The keyed tables and their key column: TABLE.COLUMN, comma-separated or repeated' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand repartition" -l as -d 'The shards\' names are PREFIX-1 .. PREFIX-N [default: the source\'s name]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand repartition" -l hosts -d 'Hosts the shards go on, in turn [default: chosen by placement]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand repartition" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand repartition" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand repartition" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand repartition" -l ranges -d 'Split by ranges of the (first) key instead of by its hash'
complete -c dbctl -n "__fish_dbctl_using_subcommand repartition" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand repartition" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand drill; and not __fish_seen_subcommand_from list help" -l from -d 'Which tier to restore from' -r -f -a "host\t'The host\'s snapshots and log archive'
repository\t'A backup and shipped logs in the instance\'s repository'"
complete -c dbctl -n "__fish_dbctl_using_subcommand drill; and not __fish_seen_subcommand_from list help" -l at -d 'A time: RFC 3339, "YYYY-MM-DD HH:MM:SS" (UTC), "now" or "N minutes ago"; echoed as UTC' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand drill; and not __fish_seen_subcommand_from list help" -l position -d 'A log position as the engine writes it (PostgreSQL: an LSN, e.g. 0/3000060; MariaDB: a GTID, e.g. 0-1-42, or a binary log file and offset, e.g. binlog.000003:1234)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand drill; and not __fish_seen_subcommand_from list help" -l lsn -d 'PostgreSQL only: an LSN, as --position takes it' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand drill; and not __fish_seen_subcommand_from list help" -l host -d 'The host the scratch instance goes on [default: chosen by placement]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand drill; and not __fish_seen_subcommand_from list help" -l check-sql -d 'A file of queries separated by `;`, each to return true or at least one row' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand drill; and not __fish_seen_subcommand_from list help" -l database -d 'The database the queries run in [default: postgres, or none for MariaDB]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand drill; and not __fish_seen_subcommand_from list help" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand drill; and not __fish_seen_subcommand_from list help" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand drill; and not __fish_seen_subcommand_from list help" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand drill; and not __fish_seen_subcommand_from list help" -l latest -d 'The latest commit (on a running source, including what was not yet archived)'
complete -c dbctl -n "__fish_dbctl_using_subcommand drill; and not __fish_seen_subcommand_from list help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbctl -n "__fish_dbctl_using_subcommand drill; and not __fish_seen_subcommand_from list help" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand drill; and not __fish_seen_subcommand_from list help" -a "list" -d 'The drills run, newest first: when, from which tier, RTO, RPO and what they found'
complete -c dbctl -n "__fish_dbctl_using_subcommand drill; and not __fish_seen_subcommand_from list help" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbctl -n "__fish_dbctl_using_subcommand drill; and __fish_seen_subcommand_from list" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand drill; and __fish_seen_subcommand_from list" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand drill; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand drill; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand drill; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand drill; and __fish_seen_subcommand_from help" -f -a "list" -d 'The drills run, newest first: when, from which tier, RTO, RPO and what they found'
complete -c dbctl -n "__fish_dbctl_using_subcommand drill; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbctl -n "__fish_dbctl_using_subcommand list" -l label -d 'Only those carrying this label KEY=VALUE (repeatable: all of them)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand list" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand list" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand list" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand list" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand list" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand url" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand url" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand url" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand url" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand url" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand connect" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand connect" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand connect" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand connect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbctl -n "__fish_dbctl_using_subcommand connect" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show delete verify help" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show delete verify help" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show delete verify help" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show delete verify help" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show delete verify help" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show delete verify help" -f -a "create" -d 'Take an online snapshot of an instance; it keeps serving reads and writes throughout'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show delete verify help" -f -a "list" -d 'List snapshots (those of deleted instances too), newest first. `size` is what a restore holds; `new` is what the snapshot added on disk (files shared with the one before count once, there)'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show delete verify help" -f -a "show" -d 'Show one snapshot'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show delete verify help" -f -a "delete" -d 'Delete a snapshot from its host and the catalog, with the archived logs only it needed'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show delete verify help" -f -a "verify" -d 'Recompute a snapshot\'s checksums on its host and report every file that does not match'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show delete verify help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l tag -d 'A label to find the snapshot by' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l label -d 'A label KEY=VALUE (repeatable), to find it by (`list --label`)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l dry-run -d 'Print the plan (the steps that would run) and change nothing'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l detach -d 'Queue the workflow and return its id; `dbctl sweep` runs it'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l label -d 'Only those carrying this label KEY=VALUE (repeatable: all of them)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from show" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from show" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from delete" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from delete" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Delete it even if it is the instance\'s last snapshot'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from delete" -l dry-run -d 'Print the plan (the steps that would run) and change nothing'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from delete" -l detach -d 'Queue the workflow and return its id; `dbctl sweep` runs it'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "create" -d 'Take an online snapshot of an instance; it keeps serving reads and writes throughout'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "list" -d 'List snapshots (those of deleted instances too), newest first. `size` is what a restore holds; `new` is what the snapshot added on disk (files shared with the one before count once, there)'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one snapshot'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a snapshot from its host and the catalog, with the archived logs only it needed'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Recompute a snapshot\'s checksums on its host and report every file that does not match'
complete -c dbctl -n "__fish_dbctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbctl -n "__fish_dbctl_using_subcommand endpoint; and not __fish_seen_subcommand_from list help" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand endpoint; and not __fish_seen_subcommand_from list help" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand endpoint; and not __fish_seen_subcommand_from list help" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand endpoint; and not __fish_seen_subcommand_from list help" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand endpoint; and not __fish_seen_subcommand_from list help" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand endpoint; and not __fish_seen_subcommand_from list help" -f -a "list" -d 'List endpoints and the address each points at'
complete -c dbctl -n "__fish_dbctl_using_subcommand endpoint; and not __fish_seen_subcommand_from list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbctl -n "__fish_dbctl_using_subcommand endpoint; and __fish_seen_subcommand_from list" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand endpoint; and __fish_seen_subcommand_from list" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand endpoint; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand endpoint; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand endpoint; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand endpoint; and __fish_seen_subcommand_from help" -f -a "list" -d 'List endpoints and the address each points at'
complete -c dbctl -n "__fish_dbctl_using_subcommand endpoint; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and not __fish_seen_subcommand_from add list show check verify remove export-key help" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and not __fish_seen_subcommand_from add list show check verify remove export-key help" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and not __fish_seen_subcommand_from add list show check verify remove export-key help" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and not __fish_seen_subcommand_from add list show check verify remove export-key help" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and not __fish_seen_subcommand_from add list show check verify remove export-key help" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and not __fish_seen_subcommand_from add list show check verify remove export-key help" -f -a "add" -d 'Add a repository: a new one, with a key made for it and kept 0600 in this home, or, with --key-file, one another home made (its key file copied here)'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and not __fish_seen_subcommand_from add list show check verify remove export-key help" -f -a "list" -d 'List repositories'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and not __fish_seen_subcommand_from add list show check verify remove export-key help" -f -a "show" -d 'Show a repository, opened with its key: its format version and where its key is'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and not __fish_seen_subcommand_from add list show check verify remove export-key help" -f -a "check" -d 'Check a repository cheaply: reachable, opens with its key, takes a write, its format, its newest backup\'s age and each instance\'s log shipping lag. Reads no data; exits 1 when something is wrong'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and not __fish_seen_subcommand_from add list show check verify remove export-key help" -f -a "verify" -d 'Read a repository back whole and check every object\'s checksum; name each damaged object and the backups and shipped logs it breaks. Exits 1 when anything is damaged'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and not __fish_seen_subcommand_from add list show check verify remove export-key help" -f -a "remove" -d 'Forget a repository in this home: its backups leave the catalog; the repository and its data stay where they are, and its key file is kept in the secrets as `*.removed`. Refused while a backup policy names it'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and not __fish_seen_subcommand_from add list show check verify remove export-key help" -f -a "export-key" -d 'Write a repository\'s key to FILE (0600, never over a file that is there): keep it apart from this machine and its catalog, since without it the repository cannot be read, or give it to `repository add --key-file` in another home'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and not __fish_seen_subcommand_from add list show check verify remove export-key help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from add" -l url -d 'Where it is: file:///ABSOLUTE/PATH (a directory, made if missing), or s3://BUCKET/PREFIX with --endpoint; S3 credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) or --credentials-file, and are kept 0600 in this home' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from add" -l endpoint -d 'An S3 repository\'s endpoint, e.g. https://s3.eu-west-1.amazonaws.com (path-style requests)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from add" -l region -d 'An S3 repository\'s region [default: us-east-1]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from add" -l credentials-file -d 'An AWS-style credentials file (`[default]` with aws_access_key_id and aws_secret_access_key) instead of the environment' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from add" -l key-file -d 'The key file of an existing repository (`dbctl repository show NAME` in the home that made it names it): the repository is opened with it, not made' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from add" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from add" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from add" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from list" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from list" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from show" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from show" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from check" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from check" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from check" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from verify" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from verify" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from verify" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from remove" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from remove" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from remove" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from export-key" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from export-key" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from export-key" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from export-key" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from export-key" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add a repository: a new one, with a key made for it and kept 0600 in this home, or, with --key-file, one another home made (its key file copied here)'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from help" -f -a "list" -d 'List repositories'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show a repository, opened with its key: its format version and where its key is'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from help" -f -a "check" -d 'Check a repository cheaply: reachable, opens with its key, takes a write, its format, its newest backup\'s age and each instance\'s log shipping lag. Reads no data; exits 1 when something is wrong'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Read a repository back whole and check every object\'s checksum; name each damaged object and the backups and shipped logs it breaks. Exits 1 when anything is damaged'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Forget a repository in this home: its backups leave the catalog; the repository and its data stay where they are, and its key file is kept in the secrets as `*.removed`. Refused while a backup policy names it'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from help" -f -a "export-key" -d 'Write a repository\'s key to FILE (0600, never over a file that is there): keep it apart from this machine and its catalog, since without it the repository cannot be read, or give it to `repository add --key-file` in another home'
complete -c dbctl -n "__fish_dbctl_using_subcommand repository; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and not __fish_seen_subcommand_from create list show delete pin unpin policy help" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and not __fish_seen_subcommand_from create list show delete pin unpin policy help" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and not __fish_seen_subcommand_from create list show delete pin unpin policy help" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and not __fish_seen_subcommand_from create list show delete pin unpin policy help" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and not __fish_seen_subcommand_from create list show delete pin unpin policy help" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and not __fish_seen_subcommand_from create list show delete pin unpin policy help" -f -a "create" -d 'Back up an instance: a new online snapshot (or one its host keeps) streamed through this machine into a repository, encrypted, compressed and deduplicated against everything the repository holds. The data host never sees the repository\'s key or credentials'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and not __fish_seen_subcommand_from create list show delete pin unpin policy help" -f -a "list" -d 'List backups, oldest first. `added` is what each one added to its repository after deduplication and compression'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and not __fish_seen_subcommand_from create list show delete pin unpin policy help" -f -a "show"
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and not __fish_seen_subcommand_from create list show delete pin unpin policy help" -f -a "delete" -d 'Delete a backup from its repository. Asks on a terminal; without one, --yes is required. The oldest backup of an instance (where its restorable window in that repository starts) is refused unless --force'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and not __fish_seen_subcommand_from create list show delete pin unpin policy help" -f -a "pin"
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and not __fish_seen_subcommand_from create list show delete pin unpin policy help" -f -a "unpin"
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and not __fish_seen_subcommand_from create list show delete pin unpin policy help" -f -a "policy" -d 'Show an instance\'s backup policy, or change what is given'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and not __fish_seen_subcommand_from create list show delete pin unpin policy help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from create" -l repository -d 'The repository [default: the only one there is]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from create" -l snapshot -d 'Copy this snapshot (`dbctl snapshot list`) instead of taking a new one' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from create" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from create" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from create" -l keep-forever -d 'Pin it: expiry never removes it'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from create" -l dry-run -d 'Print the plan (the steps that would run) and change nothing'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from create" -l detach -d 'Queue the workflow and return its id; `dbctl sweep` runs it'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from list" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from list" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from show" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from show" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from delete" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from delete" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Delete without asking'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from delete" -l force -d 'Delete it even though the instance\'s restorable window starts at it'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from pin" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from pin" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from pin" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from pin" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from pin" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from unpin" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from unpin" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from unpin" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from unpin" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from unpin" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from policy" -l backup-repository -d 'The repository its backups and logs go to; `dbctl sweep` ships its new archived logs there each time it runs' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from policy" -l backup-window -d 'When (UTC, HH:MM-HH:MM) sweep takes its daily backup, or `none` [default: 02:00-03:00]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from policy" -l backup-retention-days -d 'Days of point-in-time recovery kept in the repository, 0-35 [default: 7]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from policy" -l keep-daily -d 'Daily backups kept beyond the retention days [default: 7]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from policy" -l keep-weekly -d 'Weekly backups kept [default: 4]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from policy" -l keep-monthly -d 'Monthly backups kept [default: 0]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from policy" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from policy" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from policy" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from policy" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from policy" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "create" -d 'Back up an instance: a new online snapshot (or one its host keeps) streamed through this machine into a repository, encrypted, compressed and deduplicated against everything the repository holds. The data host never sees the repository\'s key or credentials'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "list" -d 'List backups, oldest first. `added` is what each one added to its repository after deduplication and compression'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "show"
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a backup from its repository. Asks on a terminal; without one, --yes is required. The oldest backup of an instance (where its restorable window in that repository starts) is refused unless --force'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "pin"
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "unpin"
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "policy" -d 'Show an instance\'s backup policy, or change what is given'
complete -c dbctl -n "__fish_dbctl_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and not __fish_seen_subcommand_from add list remove pause unpause help" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and not __fish_seen_subcommand_from add list remove pause unpause help" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and not __fish_seen_subcommand_from add list remove pause unpause help" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and not __fish_seen_subcommand_from add list remove pause unpause help" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and not __fish_seen_subcommand_from add list remove pause unpause help" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and not __fish_seen_subcommand_from add list remove pause unpause help" -f -a "add" -d 'Add a schedule: ACTION (snapshot, backup, hibernate, resume, stop, start, drill) on NAME at the times of a standard 5-field cron expression in UTC, or once at a time. A drill runs within the pass that fires it (`dbctl drill`), from the host tier or, with --from repository, from the repository'
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and not __fish_seen_subcommand_from add list remove pause unpause help" -f -a "list" -d 'List schedules with their next and last run'
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and not __fish_seen_subcommand_from add list remove pause unpause help" -f -a "remove"
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and not __fish_seen_subcommand_from add list remove pause unpause help" -f -a "pause"
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and not __fish_seen_subcommand_from add list remove pause unpause help" -f -a "unpause"
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and not __fish_seen_subcommand_from add list remove pause unpause help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from add" -l from -d 'For a drill: the tier it restores from' -r -f -a "host\t'The host\'s snapshots and log archive'
repository\t'A backup and shipped logs in the instance\'s repository'"
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from add" -l cron -d '"MIN HOUR DOM MON DOW" in UTC, e.g. "0 19 * * FRI"' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from add" -l at -d 'Once, at this time (RFC 3339, "YYYY-MM-DD HH:MM:SS" UTC)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from add" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from add" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from add" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from list" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from list" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from remove" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from remove" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from remove" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from pause" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from pause" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from pause" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from pause" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from pause" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from unpause" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from unpause" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from unpause" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from unpause" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from unpause" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add a schedule: ACTION (snapshot, backup, hibernate, resume, stop, start, drill) on NAME at the times of a standard 5-field cron expression in UTC, or once at a time. A drill runs within the pass that fires it (`dbctl drill`), from the host tier or, with --from repository, from the repository'
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from help" -f -a "list" -d 'List schedules with their next and last run'
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from help" -f -a "remove"
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from help" -f -a "pause"
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from help" -f -a "unpause"
complete -c dbctl -n "__fish_dbctl_using_subcommand schedule; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and not __fish_seen_subcommand_from list show resume wait cancel help" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and not __fish_seen_subcommand_from list show resume wait cancel help" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and not __fish_seen_subcommand_from list show resume wait cancel help" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and not __fish_seen_subcommand_from list show resume wait cancel help" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and not __fish_seen_subcommand_from list show resume wait cancel help" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and not __fish_seen_subcommand_from list show resume wait cancel help" -f -a "list" -d 'List the newest workflows'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and not __fish_seen_subcommand_from list show resume wait cancel help" -f -a "show" -d 'Show a workflow\'s steps with status, attempts, durations and errors'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and not __fish_seen_subcommand_from list show resume wait cancel help" -f -a "resume" -d 'Resume a workflow that stopped part-way (crash, Ctrl-C, lost connection)'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and not __fish_seen_subcommand_from list show resume wait cancel help" -f -a "wait" -d 'Block until a workflow finishes; exit 0 if it succeeded, 1 if it failed or was cancelled, 4 if --timeout passed first (the workflow goes on)'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and not __fish_seen_subcommand_from list show resume wait cancel help" -f -a "cancel" -d 'Cancel a workflow that is queued or stopped part-way: undo its completed steps, mark it failed'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and not __fish_seen_subcommand_from list show resume wait cancel help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from list" -l limit -d 'How many of the newest workflows to show' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from list" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from list" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from show" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from show" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from resume" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from resume" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from resume" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from resume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from resume" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from wait" -l timeout -d 'Give up after this many seconds' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from wait" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from wait" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from wait" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from wait" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from wait" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from cancel" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from cancel" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from cancel" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from cancel" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from cancel" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the newest workflows'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show a workflow\'s steps with status, attempts, durations and errors'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from help" -f -a "resume" -d 'Resume a workflow that stopped part-way (crash, Ctrl-C, lost connection)'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from help" -f -a "wait" -d 'Block until a workflow finishes; exit 0 if it succeeded, 1 if it failed or was cancelled, 4 if --timeout passed first (the workflow goes on)'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from help" -f -a "cancel" -d 'Cancel a workflow that is queued or stopped part-way: undo its completed steps, mark it failed'
complete -c dbctl -n "__fish_dbctl_using_subcommand workflow; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and not __fish_seen_subcommand_from migrate key help" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and not __fish_seen_subcommand_from migrate key help" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and not __fish_seen_subcommand_from migrate key help" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and not __fish_seen_subcommand_from migrate key help" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and not __fish_seen_subcommand_from migrate key help" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and not __fish_seen_subcommand_from migrate key help" -f -a "migrate" -d 'Copy this home\'s whole catalog, secrets included, into another one that is empty: postgres://USER@HOST:PORT/DB (the password from PGPASSWORD, never the command line) or an SQLite file\'s path. This home goes on using its catalog until DBCTL_CATALOG or config.toml\'s `catalog` names the new one'
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and not __fish_seen_subcommand_from migrate key help" -f -a "key" -d 'The team key, to copy to another control machine'
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and not __fish_seen_subcommand_from migrate key help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and __fish_seen_subcommand_from migrate" -l to -d 'The catalog to copy into' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and __fish_seen_subcommand_from migrate" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and __fish_seen_subcommand_from migrate" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and __fish_seen_subcommand_from migrate" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and __fish_seen_subcommand_from migrate" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and __fish_seen_subcommand_from migrate" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and __fish_seen_subcommand_from key" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and __fish_seen_subcommand_from key" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and __fish_seen_subcommand_from key" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and __fish_seen_subcommand_from key" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and __fish_seen_subcommand_from key" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and __fish_seen_subcommand_from key" -f -a "export" -d 'Write this machine\'s team key to FILE (0600; never over an existing file)'
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and __fish_seen_subcommand_from key" -f -a "import" -d 'Take the team key in FILE (from `export` on another machine), checked against the catalog; then `url` and `connect` work here for every instance'
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and __fish_seen_subcommand_from key" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and __fish_seen_subcommand_from help" -f -a "migrate" -d 'Copy this home\'s whole catalog, secrets included, into another one that is empty: postgres://USER@HOST:PORT/DB (the password from PGPASSWORD, never the command line) or an SQLite file\'s path. This home goes on using its catalog until DBCTL_CATALOG or config.toml\'s `catalog` names the new one'
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and __fish_seen_subcommand_from help" -f -a "key" -d 'The team key, to copy to another control machine'
complete -c dbctl -n "__fish_dbctl_using_subcommand catalog; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbctl -n "__fish_dbctl_using_subcommand events" -l limit -d 'How many of the newest events to show' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand events" -l since -d 'Only those since then: a span back from now (90s, 10m, 2h, 3d, 1w) or a time' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand events" -l type -d 'Only events of this kind (e.g. recovered, step_failed, endpoint_moved)' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand events" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand events" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand events" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand events" -l follow -d 'Keep printing new events as they are recorded, until interrupted (JSON: one object a line)'
complete -c dbctl -n "__fish_dbctl_using_subcommand events" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand events" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand sweep" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand sweep" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand sweep" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand sweep" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbctl -n "__fish_dbctl_using_subcommand sweep" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand daemon" -l interval -d 'Seconds between the starts of two passes' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand daemon" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand daemon" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand daemon" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand daemon" -l once -d 'One pass, then exit (as `sweep`, logging as the daemon does)'
complete -c dbctl -n "__fish_dbctl_using_subcommand daemon" -l no-monitor -d 'Do not watch the instances (no health checks, no automatic recovery)'
complete -c dbctl -n "__fish_dbctl_using_subcommand daemon" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand daemon" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand monitor" -l passes -d 'How many passes to make' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand monitor" -l interval -d 'Seconds between the starts of two passes [default: `[monitor] interval_secs`]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand monitor" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand monitor" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand monitor" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand monitor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbctl -n "__fish_dbctl_using_subcommand monitor" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand generate-docs" -l out -d 'Directory that receives completions/ and man/' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand generate-docs" -l home -d 'Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]' -r -F
complete -c dbctl -n "__fish_dbctl_using_subcommand generate-docs" -l catalog -d 'The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in DBCTL_CATALOG or config.toml\'s `catalog`, never here) [default: DBCTL_CATALOG, then config.toml\'s, then catalog.db in the home]' -r
complete -c dbctl -n "__fish_dbctl_using_subcommand generate-docs" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''"
complete -c dbctl -n "__fish_dbctl_using_subcommand generate-docs" -s h -l help -d 'Print help'
complete -c dbctl -n "__fish_dbctl_using_subcommand generate-docs" -s V -l version -d 'Print version'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "init" -d 'Create dbctl\'s home (catalog, config, secrets) and register this machine as host `local`'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "host" -d 'Manage hosts (machines running dbhost)'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "create" -d 'Create a database instance: initialize, configure from its class, start, make an admin role'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "clone" -d 'Clone an instance: a full, independent copy (own port, endpoint, password), of any class, on any host, while the source keeps serving'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "restore" -d 'Restore an instance as of a point in time: its newest snapshot before the target plus its archived logs up to the target, verified as they are used. Into a new instance (--as NEW), or in place (--in-place), keeping its name, port and endpoint'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "recover" -d 'Recover an instance: a new server from its newest snapshot plus all its archived logs (or up to --at / --position), on the host that keeps them. The new server takes over the name and endpoint (running the endpoint hook); the old one is marked replaced'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "restorable-window" -d 'Show the span of time an instance can be restored to: from its oldest kept snapshot to its newest archived commit, with any span inside that no log chain reaches. On a terminal, a timeline follows: snapshots as ticks per tier, what can be restored as a bar, holes marked, now at the right edge (`-o json` is the same data without the picture)'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "delete" -d 'Delete an instance: stop it and remove all its data from its host'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "stop" -d 'Stop an instance\'s server, keeping its data on its host'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "start" -d 'Start a stopped instance\'s server'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "reboot" -d 'Stop and start an instance\'s server'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "hibernate" -d 'Hibernate an instance: a final snapshot (also into its repository when it has one), its last commits archived, then its server and data directory go and its host\'s room is free. No time limit; nothing resumes it on its own'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "resume" -d 'Resume a hibernated instance on any host with room (the one it hibernated on when it still fits), with every commit it had, and move its endpoint there'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "modify" -d 'Change an instance\'s class, storage, archive timeout, windows or monitor policy. A class change restarts the server, so it waits for the maintenance window (`describe` lists it as pending) unless --apply-immediately; everything else applies now. A class its host has no room for moves the instance to a host that has it (snapshot, restore with every log, the endpoint moved, the old copy retired), and the downtime is reported'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "protect" -d 'Keep an instance that would delete itself (`clone --expires-in`, `--delete-when-idle`): for good, until a time, or no longer (--off). Its expiry stays recorded and applies again once the protection ends'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "describe" -d 'Show an instance: status, engine and version, class, host, endpoint, last workflow'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "check" -d 'Check an instance\'s data: the engine\'s own integrity checks over every database (PostgreSQL: pg_amcheck with --heapallindexed, installing the amcheck extension where it is missing; MariaDB: CHECK TABLE ... EXTENDED through mariadb-check), then each query in --sql FILE, which must return true or at least one row. Exits 1 when anything fails'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "repartition" -d 'Split a PostgreSQL database into N shards: one snapshot of SOURCE (it keeps serving) is cloned N times at once (PREFIX-1 .. PREFIX-N, across --hosts in turn), and in each clone the keyed tables keep only their rows of that shard; other tables stay whole (reference data). A row goes to shard 1 plus mod(mod(hashtextextended(coalesce(key::text, \'\'), 0), N) + N, N): PostgreSQL\'s 64-bit hash of the key\'s text. With --ranges, the key\'s N-quantiles cut it instead. Each shard is vacuumed, then verified against the source at the clone point: the shards\' keyed rows are disjoint and add up to the source\'s in count and checksum, and every unkeyed table is whole in each. Exits 1 when the verification fails'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "drill" -d 'Restore an instance into a scratch instance and prove the copy is whole: the engine\'s integrity checks (as `dbctl check`) and the DBA\'s queries on it, how long the restore took (RTO) and how far its newest point lay behind the source\'s newest commit (RPO); the scratch instance is removed afterwards. Every drill is recorded (`dbctl drill list`) and is an event; a failed one runs `[monitor] hook` and exits 1'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "list" -d 'List instances'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "url" -d 'Print a connection URL with the admin credentials (for an application\'s settings; to open a session use `dbctl connect`, which keeps the password off command lines)'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "connect" -d 'Open the engine\'s client (psql, mariadb) on an instance as its admin role. The credentials travel in the client\'s environment, never on its command line (which every local user can read); arguments after `--` go to the client'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "snapshot" -d 'Take, list, inspect, check and delete snapshots'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "endpoint" -d 'Endpoints: stable names that follow an instance when recovery moves it'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "repository" -d 'Manage backup repositories (the off-host tier: encrypted, compressed, deduplicated)'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "backup" -d 'Back up instances into repositories, list, show, pin and delete backups'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "schedule" -d 'Schedule snapshots, backups, hibernation, resume, stop and start; `dbctl sweep` fires what is due'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "workflow" -d 'Inspect and drive workflows (the persisted step lists behind changing commands)'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "catalog" -d 'The catalog: moving it to PostgreSQL (or back), and the team key that seals a shared catalog\'s secrets'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "events" -d 'Show events (created, deleted, failed steps, hosts added, ...), oldest first. Kept for `[events] retention_days` (config.toml, default 90); `sweep` removes older ones'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "sweep" -d 'Fire the schedules due (`dbctl schedule`), queue the backups due (an instance inside its backup window without one since it opened), run every queued workflow and resume every one whose runner is gone, ship every instance\'s new archived logs into its backup repository, expire what backup policies no longer keep, then exit'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "daemon" -d 'Run in the foreground (under systemd: fixtures/dbctl-daemon.service): every interval, one pass as `dbctl sweep` makes it (schedules, periodic backups, queued and abandoned workflows, log shipping, expiry). Several daemons and operators may share one catalog: each workflow, schedule run and instance\'s shipping or expiry is claimed by one of them, and a claim whose holder died lapses. Besides, the monitor checks every running instance every `[monitor] interval_secs` and restarts or rebuilds a failed one by its policy (see `describe`\'s health). One log line a pass that did something and one per change of health, JSON when stdout is not a terminal. Stops after the pass under way on SIGINT or SIGTERM'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "monitor" -d 'Check every running instance and every host now, as the daemon\'s monitor does: each host asked for its facts and its instances\' status (`[monitor] concurrency` at a time, a host silent for `[monitor] check_timeout_secs` counted as not answering), a verdict after the failure budget, and the instance\'s failure policy applied (a recovery it starts runs before the next pass). With `--passes`, the SSH session to each host stays open between passes, as in the daemon'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "generate-docs" -d 'Write shell completions and man pages'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and not __fish_seen_subcommand_from init host create clone restore recover restorable-window delete stop start reboot hibernate resume modify protect describe check repartition drill list url connect snapshot endpoint repository backup schedule workflow catalog events sweep daemon monitor generate-docs help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from host" -f -a "add" -d 'Register a host reached over SSH: pins its host key on first contact and stores its facts'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from host" -f -a "list" -d 'List hosts with their capacity and engines'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from host" -f -a "show" -d 'Show one host: how it is reached, its pinned key, dbhost version and facts'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from host" -f -a "refresh" -d 'Ask a host for its facts again (checking its pinned key) and store them'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from host" -f -a "remove" -d 'Forget a host. Refused while instances live there'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from host" -f -a "prune" -d 'Remove data that recoveries and in-place restores set aside on a host'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from drill" -f -a "list" -d 'The drills run, newest first: when, from which tier, RTO, RPO and what they found'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "create" -d 'Take an online snapshot of an instance; it keeps serving reads and writes throughout'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "list" -d 'List snapshots (those of deleted instances too), newest first. `size` is what a restore holds; `new` is what the snapshot added on disk (files shared with the one before count once, there)'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "show" -d 'Show one snapshot'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "delete" -d 'Delete a snapshot from its host and the catalog, with the archived logs only it needed'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "verify" -d 'Recompute a snapshot\'s checksums on its host and report every file that does not match'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from endpoint" -f -a "list" -d 'List endpoints and the address each points at'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from repository" -f -a "add" -d 'Add a repository: a new one, with a key made for it and kept 0600 in this home, or, with --key-file, one another home made (its key file copied here)'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from repository" -f -a "list" -d 'List repositories'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from repository" -f -a "show" -d 'Show a repository, opened with its key: its format version and where its key is'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from repository" -f -a "check" -d 'Check a repository cheaply: reachable, opens with its key, takes a write, its format, its newest backup\'s age and each instance\'s log shipping lag. Reads no data; exits 1 when something is wrong'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from repository" -f -a "verify" -d 'Read a repository back whole and check every object\'s checksum; name each damaged object and the backups and shipped logs it breaks. Exits 1 when anything is damaged'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from repository" -f -a "remove" -d 'Forget a repository in this home: its backups leave the catalog; the repository and its data stay where they are, and its key file is kept in the secrets as `*.removed`. Refused while a backup policy names it'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from repository" -f -a "export-key" -d 'Write a repository\'s key to FILE (0600, never over a file that is there): keep it apart from this machine and its catalog, since without it the repository cannot be read, or give it to `repository add --key-file` in another home'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from backup" -f -a "create" -d 'Back up an instance: a new online snapshot (or one its host keeps) streamed through this machine into a repository, encrypted, compressed and deduplicated against everything the repository holds. The data host never sees the repository\'s key or credentials'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from backup" -f -a "list" -d 'List backups, oldest first. `added` is what each one added to its repository after deduplication and compression'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from backup" -f -a "show"
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from backup" -f -a "delete" -d 'Delete a backup from its repository. Asks on a terminal; without one, --yes is required. The oldest backup of an instance (where its restorable window in that repository starts) is refused unless --force'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from backup" -f -a "pin"
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from backup" -f -a "unpin"
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from backup" -f -a "policy" -d 'Show an instance\'s backup policy, or change what is given'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from schedule" -f -a "add" -d 'Add a schedule: ACTION (snapshot, backup, hibernate, resume, stop, start, drill) on NAME at the times of a standard 5-field cron expression in UTC, or once at a time. A drill runs within the pass that fires it (`dbctl drill`), from the host tier or, with --from repository, from the repository'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from schedule" -f -a "list" -d 'List schedules with their next and last run'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from schedule" -f -a "remove"
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from schedule" -f -a "pause"
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from schedule" -f -a "unpause"
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from workflow" -f -a "list" -d 'List the newest workflows'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from workflow" -f -a "show" -d 'Show a workflow\'s steps with status, attempts, durations and errors'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from workflow" -f -a "resume" -d 'Resume a workflow that stopped part-way (crash, Ctrl-C, lost connection)'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from workflow" -f -a "wait" -d 'Block until a workflow finishes; exit 0 if it succeeded, 1 if it failed or was cancelled, 4 if --timeout passed first (the workflow goes on)'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from workflow" -f -a "cancel" -d 'Cancel a workflow that is queued or stopped part-way: undo its completed steps, mark it failed'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from catalog" -f -a "migrate" -d 'Copy this home\'s whole catalog, secrets included, into another one that is empty: postgres://USER@HOST:PORT/DB (the password from PGPASSWORD, never the command line) or an SQLite file\'s path. This home goes on using its catalog until DBCTL_CATALOG or config.toml\'s `catalog` names the new one'
complete -c dbctl -n "__fish_dbctl_using_subcommand help; and __fish_seen_subcommand_from catalog" -f -a "key" -d 'The team key, to copy to another control machine'
