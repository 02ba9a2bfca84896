//! Strict, friendly parsing of query strings: every problem names the
//! parameter at fault.

use std::borrow::Cow;
use std::collections::HashSet;

use super::error::ApiError;

/// Longest value accepted for any query parameter.
pub const MAX_PARAM_LEN: usize = 200;

/// Most parameters accepted in one query. The API's endpoints read at most
/// a handful; the cap bounds the work a long query string can cause.
pub const MAX_PARAMS: usize = 32;

/// The parameters of one request, each given at most once. Names and
/// values borrow from the query string unless they had to be decoded.
#[derive(Debug, Default)]
pub struct Params<'q>(Vec<(Cow<'q, str>, Cow<'q, str>)>);

impl<'q> Params<'q> {
    pub fn parse(raw: Option<&'q str>) -> Result<Params<'q>, ApiError> {
        let mut params: Vec<(Cow<'q, str>, Cow<'q, str>)> = Vec::new();
        // Names seen so far: repeats are found in constant time each.
        let mut seen: HashSet<Cow<'q, str>> = HashSet::new();
        for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            if params.len() == MAX_PARAMS {
                return Err(ApiError::invalid(
                    "?",
                    format!("trop de paramètres : au plus {MAX_PARAMS} par requête"),
                ));
            }
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
            if !seen.insert(k.clone()) {
                return Err(ApiError::invalid(
                    &k,
                    format!("le paramètre « {k} » est donné plusieurs fois"),
                ));
            }
            let v = match v {
                Cow::Borrowed(v) => Cow::Borrowed(v.trim()),
                Cow::Owned(v) if v.trim().len() == v.len() => Cow::Owned(v),
                Cow::Owned(v) => Cow::Owned(v.trim().to_owned()),
            };
            params.push((k, v));
        }
        Ok(Params(params))
    }

    /// A parameter's value; an empty value counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_ref())
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name).ok_or_else(|| {
            ApiError::invalid(name, format!("le paramètre « {name} » est obligatoire"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_decoded_trimmed_and_borrowed_when_possible() {
        let p = Params::parse(Some("a=+x+&b=%C3%A9t%C3%A9&c=&d=plain")).unwrap();
        assert_eq!(p.get("a"), Some("x"));
        assert_eq!(p.get("b"), Some("été"));
        assert_eq!(p.get("c"), None);
        assert_eq!(p.get("missing"), None);
        assert!(matches!(p.0[3].1, Cow::Borrowed("plain")));
        assert!(p.required("c").is_err());
    }

    #[test]
    fn a_repeated_or_oversize_parameter_is_refused() {
        assert!(Params::parse(Some("a=1&a=2")).is_err());
        assert!(Params::parse(Some(&format!("a={}", "x".repeat(MAX_PARAM_LEN + 1)))).is_err());
        assert!(Params::parse(Some(&format!("{}=1", "k".repeat(65)))).is_err());
        assert!(Params::parse(None).unwrap().get("a").is_none());
    }

    #[test]
    fn the_number_of_parameters_is_capped() {
        let query = |n: usize| {
            (0..n)
                .map(|i| format!("p{i}=1"))
                .collect::<Vec<_>>()
                .join("&")
        };
        let at_cap = query(MAX_PARAMS);
        let p = Params::parse(Some(&at_cap)).unwrap();
        assert_eq!(p.get("p31"), Some("1"));
        let e = Params::parse(Some(&query(MAX_PARAMS + 1))).unwrap_err();
        assert!(e.to_string().contains("trop de paramètres"), "{e}");
        assert!(Params::parse(Some(&query(18_000))).is_err());
        // A repeat is found among many names, decoded or not.
        assert!(Params::parse(Some("a=1&b=2&c=3&%61=4")).is_err());
    }
}
