//! An S3-compatible bucket as a restic repository's backend: the repository's objects under a
//! prefix, path-style requests (Garage, MinIO and AWS alike), each request signed as a
//! presigned URL and sent synchronously. Only plain PUT, GET, DELETE and listing: no
//! conditional writes, no multipart, nothing rewritten.

use bytes::Bytes;
use rustic_core::{
    BytesList, ErrorKind, FileType, Id, ReadBackend, RusticError, RusticResult, WriteBackend,
};
use rusty_s3::S3Action;
use std::time::Duration;

/// How long a signed request stays valid: long enough for a slow upload to start.
const SIGNED_FOR: Duration = Duration::from_secs(15 * 60);

/// Where a repository is in a bucket, and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    /// The repository's objects are under this key prefix (no leading or trailing slash).
    pub prefix: String,
}

/// Access to a bucket: an access key and its secret, with a session token when temporary.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Keys {
    pub access_key_id: String,
    pub secret_access_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keys({}, secret withheld)", self.access_key_id)
    }
}

#[derive(Debug)]
pub struct S3 {
    bucket: rusty_s3::Bucket,
    creds: rusty_s3::Credentials,
    prefix: String,
    agent: ureq::Agent,
    location: String,
}

fn backend_err(what: String) -> Box<RusticError> {
    RusticError::new(ErrorKind::Backend, what)
}

impl S3 {
    /// # Errors
    /// The endpoint is not a URL.
    pub fn new(place: &Place, keys: &Keys) -> anyhow::Result<Self> {
        let endpoint: url::Url = place
            .endpoint
            .parse()
            .map_err(|e| anyhow::anyhow!("the endpoint {:?} is not a URL: {e}", place.endpoint))?;
        let bucket = rusty_s3::Bucket::new(
            endpoint,
            rusty_s3::UrlStyle::Path,
            place.bucket.clone(),
            place.region.clone(),
        )
        .map_err(|e| anyhow::anyhow!("bucket {}: {e}", place.bucket))?;
        let creds = match &keys.session_token {
            Some(t) => rusty_s3::Credentials::new_with_token(
                &keys.access_key_id,
                &keys.secret_access_key,
                t,
            ),
            None => rusty_s3::Credentials::new(&keys.access_key_id, &keys.secret_access_key),
        };
        // Statuses are answers here (404 is "no such object"), not transport errors.
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(600)))
            .build()
            .new_agent();
        Ok(S3 {
            location: format!("s3:{}/{}/{}", place.endpoint, place.bucket, place.prefix),
            bucket,
            creds,
            prefix: place.prefix.clone(),
            agent,
        })
    }

    fn key(&self, tpe: FileType, id: &Id) -> String {
        let hex = id.to_hex();
        let hex = hex.as_str();
        let name = match tpe {
            FileType::Config => "config".to_string(),
            FileType::Pack => format!("data/{}/{hex}", &hex[0..2]),
            _ => format!("{}/{hex}", tpe.dirname()),
        };
        self.under(&name)
    }

    fn under(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.prefix)
        }
    }

    /// Sends `req` (its body, if any, `body`): the status and the answer's bytes.
    fn send(
        &self,
        method: &str,
        url: url::Url,
        range: Option<String>,
        body: Option<Vec<u8>>,
    ) -> RusticResult<(u16, Vec<u8>)> {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(url.as_str())
            // Garage asks for it on every request. The payload itself is not signed: each
            // object is named by its SHA-256 and carries its MAC, both checked on every read.
            .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
        if let Some(r) = range {
            req = req.header("range", r);
        }
        let req = req
            .body(body.unwrap_or_default())
            .map_err(|e| backend_err(format!("building a request to {}: {e}", self.location)))?;
        let mut resp = self
            .agent
            .run(req)
            .map_err(|e| backend_err(format!("{} is not reachable: {e}", self.location)))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .map_err(|e| backend_err(format!("reading from {}: {e}", self.location)))?;
        Ok((status, bytes))
    }

    /// Fails on any status but success, saying what the store said.
    fn ok(&self, what: &str, (status, body): (u16, Vec<u8>)) -> RusticResult<Vec<u8>> {
        if (200..300).contains(&status) {
            return Ok(body);
        }
        let said = String::from_utf8_lossy(&body);
        let code = said
            .split("<Code>")
            .nth(1)
            .and_then(|s| s.split("</Code>").next())
            .unwrap_or("");
        Err(backend_err(format!(
            "{what} at {}: HTTP {status} {code}",
            self.location
        )))
    }

    fn get(&self, key: &str, range: Option<String>) -> RusticResult<Vec<u8>> {
        let url = self
            .bucket
            .get_object(Some(&self.creds), key)
            .sign(SIGNED_FOR);
        let answer = self.send("GET", url, range, None)?;
        self.ok(&format!("reading {key}"), answer)
    }

    /// Whether the bucket answers with these keys (a listing of the repository's prefix).
    ///
    /// # Errors
    /// Unreachable, no such bucket, or the keys are refused.
    pub fn check(&self) -> RusticResult<()> {
        self.list_keys(&self.under("config")).map(|_| ())
    }

    /// Whether an object can be written under the prefix: one is put and removed again (a
    /// write-once bucket may refuse the removal; that leaves a few bytes, and is no fault).
    ///
    /// # Errors
    /// The put is refused.
    pub fn probe_write(&self) -> RusticResult<()> {
        let key = self.under(&format!("dbctl-probe-{:016x}", rand::random::<u64>()));
        let url = self
            .bucket
            .put_object(Some(&self.creds), &key)
            .sign(SIGNED_FOR);
        let answer = self.send("PUT", url, None, Some(b"probe".to_vec()))?;
        self.ok(&format!("writing {key}"), answer)?;
        let url = self
            .bucket
            .delete_object(Some(&self.creds), &key)
            .sign(SIGNED_FOR);
        let _ = self.send("DELETE", url, None, None);
        Ok(())
    }

    /// Whether no object is under the repository's prefix.
    ///
    /// # Errors
    /// Unreachable, no such bucket, or the keys are refused.
    pub fn is_empty(&self) -> RusticResult<bool> {
        let prefix = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        self.list_keys(&prefix).map(|k| k.is_empty())
    }

    fn list_keys(&self, prefix: &str) -> RusticResult<Vec<(String, u64)>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut list = self.bucket.list_objects_v2(Some(&self.creds));
            list.with_prefix(prefix);
            if let Some(t) = &token {
                list.with_continuation_token(t.as_str());
            }
            let url = list.sign(SIGNED_FOR);
            let answer = self.send("GET", url, None, None)?;
            let body = self.ok(&format!("listing {prefix}"), answer)?;
            let parsed = rusty_s3::actions::ListObjectsV2::parse_response(
                &String::from_utf8_lossy(&body),
            )
            .map_err(|e| backend_err(format!("listing {prefix} at {}: {e}", self.location)))?;
            out.extend(
                parsed
                    .contents
                    .into_iter()
                    .map(|c| (c.key, c.size.unwrap_or(0))),
            );
            match parsed.next_continuation_token {
                Some(t) => token = Some(t),
                None => return Ok(out),
            }
        }
    }
}

impl ReadBackend for S3 {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn list_with_size(&self, tpe: FileType) -> RusticResult<Vec<(Id, u32)>> {
        if tpe == FileType::Config {
            let found = self.list_keys(&self.under("config"))?;
            return Ok(found
                .into_iter()
                .filter(|(k, _)| *k == self.under("config"))
                .map(|(_, size)| (Id::default(), u32::try_from(size).unwrap_or(u32::MAX)))
                .collect());
        }
        let prefix = self.under(&format!("{}/", tpe.dirname()));
        let mut out = Vec::new();
        for (key, size) in self.list_keys(&prefix)? {
            let name = key.rsplit('/').next().unwrap_or("");
            // Anything else under the prefix is not the repository's.
            if let Ok(id) = name.parse::<Id>() {
                out.push((id, u32::try_from(size).unwrap_or(u32::MAX)));
            }
        }
        Ok(out)
    }

    fn read_full(&self, tpe: FileType, id: &Id) -> RusticResult<Bytes> {
        self.get(&self.key(tpe, id), None).map(Bytes::from)
    }

    fn read_partial(
        &self,
        tpe: FileType,
        id: &Id,
        _cacheable: bool,
        offset: u32,
        length: u32,
    ) -> RusticResult<Bytes> {
        if length == 0 {
            return Ok(Bytes::new());
        }
        let range = format!(
            "bytes={offset}-{}",
            u64::from(offset) + u64::from(length) - 1
        );
        self.get(&self.key(tpe, id), Some(range)).map(Bytes::from)
    }

    fn warmup_path(&self, tpe: FileType, id: &Id) -> String {
        self.key(tpe, id)
    }
}

impl WriteBackend for S3 {
    fn write_bytes(
        &self,
        tpe: FileType,
        id: &Id,
        _cacheable: bool,
        content: BytesList,
    ) -> RusticResult<()> {
        let key = self.key(tpe, id);
        let mut body = Vec::with_capacity(content.size());
        for b in content.into_vec() {
            body.extend_from_slice(&b);
        }
        let url = self
            .bucket
            .put_object(Some(&self.creds), &key)
            .sign(SIGNED_FOR);
        let answer = self.send("PUT", url, None, Some(body))?;
        self.ok(&format!("writing {key}"), answer).map(|_| ())
    }

    fn remove(&self, tpe: FileType, id: &Id, _cacheable: bool) -> RusticResult<()> {
        let key = self.key(tpe, id);
        let url = self
            .bucket
            .delete_object(Some(&self.creds), &key)
            .sign(SIGNED_FOR);
        let answer = self.send("DELETE", url, None, None)?;
        self.ok(&format!("removing {key}"), answer).map(|_| ())
    }
}
