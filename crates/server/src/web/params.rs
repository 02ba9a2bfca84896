//! Strict, friendly parsing of query strings: every problem names the
//! parameter at fault.

use std::collections::HashMap;

use super::error::ApiError;

/// Longest value accepted for any query parameter.
pub const MAX_PARAM_LEN: usize = 200;

/// The parameters of one request, each given at most once.
#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Result<Params, ApiError> {
        let mut map = HashMap::new();
        for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            if k.chars().count() > 64 {
                return Err(ApiError::invalid("?", "nom de paramètre trop long"));
            }
            if v.chars().count() > MAX_PARAM_LEN {
                return Err(ApiError::invalid(
                    &k,
                    format!(
                        "le paramètre « {k} » est trop long (au plus {MAX_PARAM_LEN} caractères)"
                    ),
                ));
            }
            if map.insert(k.to_string(), v.trim().to_owned()).is_some() {
                return Err(ApiError::invalid(
                    &k,
                    format!("le paramètre « {k} » est donné plusieurs fois"),
                ));
            }
        }
        Ok(Params(map))
    }

    /// A parameter's value; an empty value counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name).ok_or_else(|| {
            ApiError::invalid(name, format!("le paramètre « {name} » est obligatoire"))
        })
    }
}
