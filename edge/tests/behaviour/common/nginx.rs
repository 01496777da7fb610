//! A real nginx (Debian's package) serving a directory on an ephemeral loopback port, as
//! the HTTP origin of the origin tests: `/media/` serves the files with Range and
//! conditional-request support, `/fault500/` answers 500, `/reset/` closes the connection
//! without an answer, `/slow/` serves the files at 2 KiB/s. Its access log tells what
//! edgepack asked for.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running nginx; killed when dropped.
pub struct Nginx {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

/// One access log line.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    pub uri: String,
    pub range: String,
    pub status: u16,
}

fn nginx_binary() -> PathBuf {
    for candidate in ["/usr/sbin/nginx", "/usr/local/sbin/nginx"] {
        if Path::new(candidate).exists() {
            return candidate.into();
        }
    }
    panic!("nginx is not installed: run scripts/install-test-deps.sh (Debian package nginx)");
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

impl Nginx {
    /// Starts nginx serving `docroot` (made world-readable, as nginx workers may run as
    /// another user).
    pub fn start(docroot: &Path) -> Nginx {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(docroot, std::fs::Permissions::from_mode(0o755)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let d = dir.path().display();
        let root = docroot.display();
        let conf = format!(
            r#"daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  log_format t '$request_method $uri "$http_range" $status';
  access_log {d}/access.log t;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  types {{ video/mp4 mp4; text/vtt vtt; }}
  default_type application/octet-stream;
  server {{
    listen 127.0.0.1:{port};
    location /media/ {{ alias {root}/; }}
    location /slow/ {{ alias {root}/; limit_rate 2k; }}
    location /fault500/ {{ return 500; }}
    location /reset/ {{ return 444; }}
  }}
}}
"#
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new(nginx_binary())
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nginx starts");
        let nginx = Nginx {
            port,
            dir,
            child: Some(child),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not start: {}",
                std::fs::read_to_string(nginx.dir.path().join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        nginx
    }

    /// The base URL of a location (`media`, `slow`, `fault500`, `reset`).
    pub fn url(&self, location: &str) -> String {
        format!("http://127.0.0.1:{}/{location}/", self.port)
    }

    /// Every request logged so far.
    pub fn log(&self) -> Vec<Logged> {
        let text = std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default();
        text.lines()
            .filter_map(|line| {
                let (method, rest) = line.split_once(' ')?;
                let (uri, rest) = rest.split_once(' ')?;
                let (range, status) = rest.rsplit_once(' ')?;
                Some(Logged {
                    method: method.into(),
                    uri: uri.into(),
                    range: range.trim_matches('"').into(),
                    status: status.parse().ok()?,
                })
            })
            .collect()
    }

    /// The requests logged for URIs ending with `suffix`.
    pub fn log_for(&self, suffix: &str) -> Vec<Logged> {
        self.log()
            .into_iter()
            .filter(|l| l.uri.ends_with(suffix))
            .collect()
    }

    /// Stops nginx (the origin goes dark).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
    }
}
