# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_dbhost_global_optspecs
    string join \n root= h/help V/version
end

function __fish_dbhost_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_dbhost_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_dbhost_using_subcommand
    set -l cmd (__fish_dbhost_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c dbhost -n "__fish_dbhost_needs_command" -l root -d 'Root directory for instances, journal and settings [default: /var/lib/dbhost as root]' -r -F
complete -c dbhost -n "__fish_dbhost_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbhost -n "__fish_dbhost_needs_command" -s V -l version -d 'Print version'
complete -c dbhost -n "__fish_dbhost_needs_command" -f -a "rpc" -d 'Serve one JSON request from stdin, answering in JSON lines (used by dbctl)'
complete -c dbhost -n "__fish_dbhost_needs_command" -f -a "version" -d 'Print dbhost\'s version and protocol'
complete -c dbhost -n "__fish_dbhost_needs_command" -f -a "facts" -d 'Print this host\'s facts (capacity, engines, storage) as JSON'
complete -c dbhost -n "__fish_dbhost_needs_command" -f -a "log-archive" -d 'Store a finished log file in the instance\'s log archive (the engine\'s server calls it)'
complete -c dbhost -n "__fish_dbhost_needs_command" -f -a "binlog-ship" -d 'Ship a MariaDB instance\'s binary logs into its log archive until its server stops (dbhost starts it with the server, as the instance\'s OS user)'
complete -c dbhost -n "__fish_dbhost_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbhost -n "__fish_dbhost_using_subcommand rpc" -l root -d 'Root directory for instances, journal and settings [default: /var/lib/dbhost as root]' -r -F
complete -c dbhost -n "__fish_dbhost_using_subcommand rpc" -s h -l help -d 'Print help'
complete -c dbhost -n "__fish_dbhost_using_subcommand version" -l root -d 'Root directory for instances, journal and settings [default: /var/lib/dbhost as root]' -r -F
complete -c dbhost -n "__fish_dbhost_using_subcommand version" -s h -l help -d 'Print help'
complete -c dbhost -n "__fish_dbhost_using_subcommand facts" -l root -d 'Root directory for instances, journal and settings [default: /var/lib/dbhost as root]' -r -F
complete -c dbhost -n "__fish_dbhost_using_subcommand facts" -s h -l help -d 'Print help'
complete -c dbhost -n "__fish_dbhost_using_subcommand log-archive" -l instance -d 'The instance (its name on this host)' -r
complete -c dbhost -n "__fish_dbhost_using_subcommand log-archive" -l root -d 'Root directory for instances, journal and settings [default: /var/lib/dbhost as root]' -r -F
complete -c dbhost -n "__fish_dbhost_using_subcommand log-archive" -s h -l help -d 'Print help'
complete -c dbhost -n "__fish_dbhost_using_subcommand binlog-ship" -l instance -d 'The instance (its name on this host)' -r
complete -c dbhost -n "__fish_dbhost_using_subcommand binlog-ship" -l root -d 'Root directory for instances, journal and settings [default: /var/lib/dbhost as root]' -r -F
complete -c dbhost -n "__fish_dbhost_using_subcommand binlog-ship" -s h -l help -d 'Print help'
complete -c dbhost -n "__fish_dbhost_using_subcommand help; and not __fish_seen_subcommand_from rpc version facts log-archive binlog-ship help" -f -a "rpc" -d 'Serve one JSON request from stdin, answering in JSON lines (used by dbctl)'
complete -c dbhost -n "__fish_dbhost_using_subcommand help; and not __fish_seen_subcommand_from rpc version facts log-archive binlog-ship help" -f -a "version" -d 'Print dbhost\'s version and protocol'
complete -c dbhost -n "__fish_dbhost_using_subcommand help; and not __fish_seen_subcommand_from rpc version facts log-archive binlog-ship help" -f -a "facts" -d 'Print this host\'s facts (capacity, engines, storage) as JSON'
complete -c dbhost -n "__fish_dbhost_using_subcommand help; and not __fish_seen_subcommand_from rpc version facts log-archive binlog-ship help" -f -a "log-archive" -d 'Store a finished log file in the instance\'s log archive (the engine\'s server calls it)'
complete -c dbhost -n "__fish_dbhost_using_subcommand help; and not __fish_seen_subcommand_from rpc version facts log-archive binlog-ship help" -f -a "binlog-ship" -d 'Ship a MariaDB instance\'s binary logs into its log archive until its server stops (dbhost starts it with the server, as the instance\'s OS user)'
complete -c dbhost -n "__fish_dbhost_using_subcommand help; and not __fish_seen_subcommand_from rpc version facts log-archive binlog-ship help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
