//! What the control plane knows of each engine: its name and how clients connect to it.

pub struct EngineInfo {
    pub name: &'static str,
    /// URL scheme for `dbctl url`.
    pub url_scheme: &'static str,
    /// The database a new instance's URL names.
    pub default_database: &'static str,
    /// The engine's own client, which `dbctl connect` runs.
    pub client: &'static str,
    /// The package that has the client, for the hint when it is missing.
    pub client_package: &'static str,
    /// How the client is given the credentials: never on its command line, which every
    /// local user can read.
    pub login: ClientLogin,
    /// What a log position looks like, for hints.
    pub position_example: &'static str,
}

/// How an engine's client takes host, port, user, password and database.
pub enum ClientLogin {
    /// From these environment variables (host, port, user, password, database).
    Env([&'static str; 5]),
    /// From an option file (`[client]` section) named by the first argument,
    /// `--defaults-extra-file=`: the client reads the password nowhere else but there or
    /// its command line, and its environment variable has no user.
    OptionFile,
}

pub const ENGINES: &[EngineInfo] = &[
    EngineInfo {
        name: "postgres",
        url_scheme: "postgresql",
        default_database: "postgres",
        client: "psql",
        client_package: "postgresql-client",
        login: ClientLogin::Env(["PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"]),
        position_example: "an LSN, e.g. 0/3000060",
    },
    EngineInfo {
        name: "mariadb",
        url_scheme: "mysql",
        default_database: "",
        client: "mariadb",
        client_package: "mariadb-client",
        login: ClientLogin::OptionFile,
        position_example:
            "a GTID, e.g. 0-1-42, or a binary log file and offset, e.g. binlog.000003:1234",
    },
];

/// # Errors
/// [`crate::control::base::error::Invalid`] listing the supported engines.
pub fn get(name: &str) -> anyhow::Result<&'static EngineInfo> {
    ENGINES.iter().find(|e| e.name == name).ok_or_else(|| {
        crate::control::base::error::invalid(
            format!("unknown engine `{name}`"),
            format!(
                "use one of: {}",
                ENGINES
                    .iter()
                    .map(|e| e.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })
}
