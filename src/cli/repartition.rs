//! `dbctl repartition`: split a database into shards by cloning it.

use super::Env;
use crate::control::data::repartition;
use crate::control::data::repartition::RepartitionOpts;
use anyhow::Result;
use clap::Args;

/// Split a PostgreSQL database into N shards: one snapshot of SOURCE (it keeps serving) is
/// cloned N times at once (PREFIX-1 .. PREFIX-N, across --hosts in turn), and in each clone
/// the keyed tables keep only their rows of that shard; other tables stay whole (reference
/// data). A row goes to shard 1 plus mod(mod(hashtextextended(coalesce(key::text, ''), 0),
/// N) + N, N): PostgreSQL's 64-bit hash of the key's text. With --ranges, the key's
/// N-quantiles cut it instead.
/// Each shard is vacuumed, then verified against the source at the clone point: the shards'
/// keyed rows are disjoint and add up to the source's in count and checksum, and every
/// unkeyed table is whole in each. Exits 1 when the verification fails.
#[derive(Debug, Args)]
pub struct RepartitionArgs {
    /// The database to split.
    #[arg(add = crate::cli::complete::instances())]
    pub source: String,
    /// How many shards.
    #[arg(long, value_name = "N")]
    pub shards: u32,
    /// The keyed tables and their key column: TABLE.COLUMN, comma-separated or repeated.
    #[arg(
        long = "key",
        value_name = "TABLE.COLUMN",
        value_delimiter = ',',
        required = true
    )]
    pub keys: Vec<String>,
    /// The shards' names are PREFIX-1 .. PREFIX-N [default: the source's name].
    #[arg(long = "as", value_name = "PREFIX")]
    pub prefix: Option<String>,
    /// Hosts the shards go on, in turn [default: chosen by placement].
    #[arg(long, value_name = "H1,H2,...", value_delimiter = ',')]
    pub hosts: Vec<String>,
    /// Split by ranges of the (first) key instead of by its hash.
    #[arg(long)]
    pub ranges: bool,
}

pub fn run(env: &Env, a: &RepartitionArgs) -> Result<()> {
    let r = repartition::run(
        &env.home,
        &RepartitionOpts {
            source: a.source.clone(),
            shards: a.shards,
            keys: a.keys.clone(),
            prefix: a.prefix.clone(),
            hosts: a.hosts.clone(),
            ranges: a.ranges,
        },
    )?;
    let p = &env.printer;
    if p.is_json() {
        p.json(&r);
    } else {
        p.note(&format!(
            "{} split into {} from snapshot {}; routing {}",
            r.source,
            r.shards.join(", "),
            r.snapshot_id,
            r.routing
        ));
        let mut header = vec!["table".to_string(), "key".into(), "source rows".into()];
        header.extend(r.shards.iter().cloned());
        header.push("verified".into());
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        p.table(
            &header,
            r.tables
                .iter()
                .map(|t| {
                    let mut row = vec![
                        t.table.clone(),
                        t.key.clone().unwrap_or_else(|| "- (whole)".into()),
                        t.source_rows.to_string(),
                    ];
                    row.extend(t.shard_rows.iter().map(|n| n.to_string()));
                    row.push(if t.ok { "yes" } else { "NO" }.into());
                    row
                })
                .collect(),
        );
    }
    if r.verified {
        Ok(())
    } else {
        Err(anyhow::anyhow!(
            "the shards of {} do not add up to it: see the tables marked NO",
            r.source
        ))
    }
}
