//! The attachments directory: each file is written under a random key,
//! first to a temporary name, checked (type from its content, size), then
//! renamed, so that a half-written file never has a key the database could
//! name. Files are read back as streams.

use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;

use crate::filetype::{FileKind, Limits, safe_file_name, sniff};
use crate::store::NewFile;
use crate::web::admin::auth::random_token;

/// Why a file was refused (shown next to the field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRefusal {
    #[error("« {name} » dépasse {max} Mo")]
    TooLarge { name: String, max: u64 },
    #[error("« {name} » n'est ni un PDF, ni une image JPEG ou PNG (d'après son contenu)")]
    WrongType { name: String },
    #[error("{max} fichiers au plus")]
    TooMany { max: usize },
    #[error("les fichiers dépassent {max} Mo en tout")]
    TotalTooLarge { max: u64 },
    #[error("« {name} » est vide")]
    Empty { name: String },
    #[error("le fichier n'a pas pu être enregistré ; réessayez")]
    Io,
}

impl FileRefusal {
    /// The same reason in English.
    pub fn english(&self) -> String {
        match self {
            FileRefusal::TooLarge { name, max } => format!("“{name}” is larger than {max} MB"),
            FileRefusal::WrongType { name } => {
                format!("“{name}” is not a PDF, JPEG or PNG file (judging by its content)")
            }
            FileRefusal::TooMany { max } => format!("{max} files at most"),
            FileRefusal::TotalTooLarge { max } => format!("the files exceed {max} MB in all"),
            FileRefusal::Empty { name } => format!("“{name}” is empty"),
            FileRefusal::Io => "the file could not be saved; please try again".into(),
        }
    }
}

fn mib(bytes: u64) -> u64 {
    bytes / (1024 * 1024)
}

/// The attachments directory.
#[derive(Debug, Clone)]
pub struct Attachments {
    dir: PathBuf,
}

impl Attachments {
    pub fn new(dir: PathBuf) -> Attachments {
        Attachments { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> Option<PathBuf> {
        // Keys are this module's own random tokens: anything else is refused.
        let ok = !key.is_empty()
            && key.len() <= 64
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| self.dir.join(key))
    }

    /// Starts writing a file sent by a person.
    pub async fn begin(&self, name: &str, limits: &Limits) -> Result<Upload, FileRefusal> {
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|_| FileRefusal::Io)?;
        let key = random_token();
        let tmp = self.dir.join(format!(".tmp-{key}"));
        let file = tokio::fs::File::create(&tmp)
            .await
            .map_err(|_| FileRefusal::Io)?;
        Ok(Upload {
            file: Some(file),
            tmp,
            final_path: self.dir.join(&key),
            key,
            name: name.to_owned(),
            size: 0,
            head: Vec::new(),
            max: limits.max_file_bytes,
            too_large: false,
        })
    }

    /// Writes a whole file at once (an attachment of an incoming mail,
    /// already checked).
    pub async fn save(
        &self,
        name: &str,
        kind: FileKind,
        bytes: &[u8],
    ) -> Result<NewFile, FileRefusal> {
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|_| FileRefusal::Io)?;
        let key = random_token();
        let tmp = self.dir.join(format!(".tmp-{key}"));
        let write = async {
            let mut f = tokio::fs::File::create(&tmp).await?;
            f.write_all(bytes).await?;
            f.sync_all().await?;
            tokio::fs::rename(&tmp, self.dir.join(&key)).await
        };
        if write.await.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(FileRefusal::Io);
        }
        Ok(NewFile {
            file_name: safe_file_name(name, kind),
            mime: kind.mime().to_owned(),
            size: bytes.len() as i64,
            storage_key: key,
        })
    }

    /// Opens a stored file for reading.
    pub async fn open(&self, key: &str) -> Option<tokio::fs::File> {
        tokio::fs::File::open(self.path(key)?).await.ok()
    }

    /// Deletes stored files (a request purged, a request that could not be
    /// stored); a missing file is not an error.
    pub async fn delete(&self, keys: &[String]) {
        for key in keys {
            if let Some(p) = self.path(key) {
                let _ = tokio::fs::remove_file(p).await;
            }
        }
    }

    /// Removes temporary files left by a crash in the middle of an upload.
    pub async fn clean_temporary(&self) {
        let Ok(mut dir) = tokio::fs::read_dir(&self.dir).await else {
            return;
        };
        while let Ok(Some(entry)) = dir.next_entry().await {
            if entry.file_name().to_string_lossy().starts_with(".tmp-") {
                let _ = tokio::fs::remove_file(entry.path()).await;
            }
        }
    }
}

/// A file being received, chunk by chunk.
pub struct Upload {
    file: Option<tokio::fs::File>,
    tmp: PathBuf,
    final_path: PathBuf,
    key: String,
    name: String,
    size: u64,
    head: Vec<u8>,
    max: u64,
    too_large: bool,
}

impl Upload {
    /// Adds a chunk. Past the size limit the rest is read and dropped, so
    /// that the other fields of the form can still be read.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), FileRefusal> {
        self.size += chunk.len() as u64;
        if self.head.len() < 16 {
            let take = (16 - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        if self.size > self.max {
            if !self.too_large {
                self.too_large = true;
                self.file = None;
                let _ = tokio::fs::remove_file(&self.tmp).await;
            }
            return Ok(());
        }
        if let Some(f) = self.file.as_mut() {
            f.write_all(chunk).await.map_err(|_| FileRefusal::Io)?;
        }
        Ok(())
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Checks and keeps the file; on refusal nothing is left on disk.
    pub async fn finish(mut self) -> Result<NewFile, FileRefusal> {
        let name = if self.name.trim().is_empty() {
            "fichier".to_owned()
        } else {
            self.name.clone()
        };
        let refusal = if self.too_large {
            Some(FileRefusal::TooLarge {
                name: name.clone(),
                max: mib(self.max),
            })
        } else if self.size == 0 {
            Some(FileRefusal::Empty { name: name.clone() })
        } else {
            None
        };
        let kind = sniff(&self.head);
        let refusal = refusal.or_else(|| {
            kind.is_none()
                .then(|| FileRefusal::WrongType { name: name.clone() })
        });
        if let Some(r) = refusal {
            self.discard().await;
            return Err(r);
        }
        let kind = kind.expect("checked above");
        let mut file = self.file.take().ok_or(FileRefusal::Io)?;
        let kept = async {
            file.flush().await?;
            file.sync_all().await?;
            drop(file);
            tokio::fs::rename(&self.tmp, &self.final_path).await
        };
        if kept.await.is_err() {
            self.discard().await;
            return Err(FileRefusal::Io);
        }
        Ok(NewFile {
            file_name: safe_file_name(&name, kind),
            mime: kind.mime().to_owned(),
            size: self.size as i64,
            storage_key: self.key.clone(),
        })
    }

    /// Drops the file.
    pub async fn discard(mut self) {
        self.file = None;
        let _ = tokio::fs::remove_file(&self.tmp).await;
    }
}

/// Checks the count and total size of accepted files.
pub fn check_totals(files: &[NewFile], limits: &Limits) -> Result<(), FileRefusal> {
    if files.len() > limits.max_files {
        return Err(FileRefusal::TooMany {
            max: limits.max_files,
        });
    }
    let total: i64 = files.iter().map(|f| f.size).sum();
    if total as u64 > limits.max_total_bytes {
        return Err(FileRefusal::TotalTooLarge {
            max: mib(limits.max_total_bytes),
        });
    }
    Ok(())
}
