//! What the control plane knows of each engine: its name and how clients connect to it.

pub struct EngineInfo {
    pub name: &'static str,
    /// URL scheme for `dbctl url`.
    pub url_scheme: &'static str,
    /// The database a new instance's URL names.
    pub default_database: &'static str,
    /// The engine's own client, which `dbctl connect` runs.
    pub client: &'static str,
    /// The client's environment variables for host, port, user, password and database:
    /// credentials travel there, never on a command line every local user can read.
    pub client_env: [&'static str; 5],
}

pub const ENGINES: &[EngineInfo] = &[EngineInfo {
    name: "postgres",
    url_scheme: "postgresql",
    default_database: "postgres",
    client: "psql",
    client_env: ["PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"],
}];

/// # Errors
/// [`super::error::Invalid`] listing the supported engines.
pub fn get(name: &str) -> anyhow::Result<&'static EngineInfo> {
    ENGINES.iter().find(|e| e.name == name).ok_or_else(|| {
        super::error::invalid(
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
