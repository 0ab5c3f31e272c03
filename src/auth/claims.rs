//! Where an issuer's tokens carry the role and the agency, when not in orderwatch's own `role` and `agency` claims:
//! a force's Entra ID or Keycloak puts roles in a list (`roles`, `realm_access.roles`), often with an application's
//! prefix, and the agency in a claim of its own or a group. Set per issuer (`ORDERWATCH_JWT_CLAIMS`):
//!
//! `https://idp.example/realms/met=role:realm_access.roles,rolePrefix:orderwatch-,agency:ow_agency,roles:POLICE,agencies:MET`
//!
//! - `role`: a dot-separated path to a string or a list of strings; those beginning with `rolePrefix` (all, when
//!   there is none), less the prefix, are read as roles (any case). Exactly one orderwatch role must be among them:
//!   none, or two different ones, and the token is refused.
//! - `agency`: a path likewise, with `agencyPrefix`; exactly one value must be left.
//! - `roles` (required): the roles this issuer may grant, `|`-separated; a token with another is refused. A force's
//!   provider is trusted for `roles:POLICE`, not for ADMIN or AUDITOR, whatever its realm calls a role.
//! - `agencies`: the agencies it may speak for, `|`-separated (any, when absent): a force's provider, `agencies:MET`.

use super::jwt::Claims;
use super::scope::Scope;
use super::Role;
use serde_json::Value;

/// The claim paths of one issuer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClaimMap {
    role: Vec<String>,
    role_prefix: String,
    agency: Vec<String>,
    agency_prefix: String,
    /// The roles this issuer may grant (required), and the agencies it may speak for (any, when empty).
    roles: Vec<Role>,
    agencies: Vec<String>,
}

impl ClaimMap {
    /// Reads `role:PATH,agency:PATH[,rolePrefix:TEXT][,agencyPrefix:TEXT]`.
    pub fn parse(spec: &str) -> Result<ClaimMap, String> {
        let mut map = ClaimMap::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once(':')
                .ok_or_else(|| format!("{part:?} is not KEY:VALUE"))?;
            let path = || -> Result<Vec<String>, String> {
                let path: Vec<String> = value.split('.').map(|s| s.trim().to_string()).collect();
                if path.iter().any(String::is_empty) {
                    return Err(format!(
                        "{value:?} is not a claim path such as realm_access.roles"
                    ));
                }
                Ok(path)
            };
            match key.trim() {
                "role" => map.role = path()?,
                "agency" => map.agency = path()?,
                "rolePrefix" => map.role_prefix = value.to_string(),
                "agencyPrefix" => map.agency_prefix = value.to_string(),
                "roles" => {
                    map.roles = value
                        .split('|')
                        .map(|r| r.trim().parse::<Role>())
                        .collect::<Result<_, _>>()?
                }
                "agencies" => map.agencies = value.split('|').map(|a| a.trim().to_string()).collect(),
                other => {
                    return Err(format!(
                        "unknown key {other:?}: expected role, agency, rolePrefix, agencyPrefix, roles or agencies"
                    ))
                }
            }
        }
        if map.role.is_empty() || map.agency.is_empty() {
            return Err("both role:PATH and agency:PATH are needed".into());
        }
        if map.roles.is_empty() {
            return Err(
                "roles:ROLE|ROLE, the roles this issuer may grant (e.g. roles:POLICE), is needed"
                    .into(),
            );
        }
        Ok(map)
    }

    /// The role and the agency a token's claims give. The error is safe to show a client.
    pub fn read(&self, claims: &Value) -> Result<(Role, String), String> {
        let mut roles: Vec<Role> = strings(at(claims, &self.role))
            .filter_map(|s| s.strip_prefix(self.role_prefix.as_str()))
            .filter_map(|s| s.trim().to_ascii_uppercase().parse::<Role>().ok())
            .collect();
        roles.sort_by_key(|r| r.as_str());
        roles.dedup();
        let role = match roles.as_slice() {
            [one] => *one,
            [] => return Err("token carries no orderwatch role".into()),
            _ => return Err("token carries more than one orderwatch role".into()),
        };
        let mut agencies: Vec<&str> = strings(at(claims, &self.agency))
            .filter_map(|s| s.strip_prefix(self.agency_prefix.as_str()))
            .collect();
        agencies.sort_unstable();
        agencies.dedup();
        if !self.roles.contains(&role) {
            return Err("token carries a role its issuer may not grant".into());
        }
        match agencies.as_slice() {
            [one]
                if !self.agencies.is_empty() && !self.agencies.iter().any(|a| a == one.trim()) =>
            {
                Err("token carries an agency its issuer may not speak for".into())
            }
            [one] => Ok((role, one.trim().to_string())),
            [] => Err("token carries no agency".into()),
            _ => Err("token carries more than one agency".into()),
        }
    }
}

/// A verified token's claims when its issuer puts the role and the agency elsewhere ([`ClaimMap`]). `scope`, or
/// Entra ID's `scp`, carries the scopes.
pub(super) fn claims_of(
    v: serde_json::Value,
    map: &ClaimMap,
    iss: &str,
    aud: &str,
) -> Result<Claims, jsonwebtoken::errors::Error> {
    let (role, agency) = map.read(&v).map_err(MappedError)?;
    let scope = v
        .get("scope")
        .or_else(|| v.get("scp"))
        .cloned()
        .and_then(|s| serde_json::from_value::<Scope>(s).ok());
    Ok(Claims {
        sub: v["sub"].as_str().unwrap_or_default().to_string(),
        role,
        agency,
        iss: iss.to_string(),
        aud: aud.to_string(),
        exp: v["exp"]
            .as_i64()
            .ok_or(MappedError("token exp is not a number".into()))?,
        iat: v["iat"].as_i64(),
        nbf: v["nbf"].as_i64(),
        scope,
    })
}

/// Why a mapped token's claims could not be read (safe to show a client).
struct MappedError(String);

impl From<MappedError> for jsonwebtoken::errors::Error {
    fn from(e: MappedError) -> Self {
        jsonwebtoken::errors::ErrorKind::InvalidClaimFormat(e.0).into()
    }
}

/// The value at a dot-separated path, if any.
fn at<'a>(claims: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(claims, |v, key| v.get(key))
}

/// A string, or the strings of a list.
fn strings(v: Option<&Value>) -> Box<dyn Iterator<Item = &str> + '_> {
    match v {
        Some(Value::String(s)) => Box::new(std::iter::once(s.as_str())),
        Some(Value::Array(items)) => Box::new(items.iter().filter_map(Value::as_str)),
        _ => Box::new(std::iter::empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keycloak_and_entra_shapes_are_read() {
        let keycloak = ClaimMap::parse(
            "role:realm_access.roles,rolePrefix:orderwatch-,agency:ow_agency,roles:POLICE",
        )
        .unwrap();
        let claims = json!({ "realm_access": { "roles": ["offline_access", "orderwatch-police", "uma_authorization"] }, "ow_agency": "MET" });
        assert_eq!(
            keycloak.read(&claims).unwrap(),
            (Role::Police, "MET".to_string())
        );

        let entra = ClaimMap::parse(
            "role:roles,rolePrefix:Orderwatch.,agency:groups,agencyPrefix:ow-agency-,roles:ADVOCATE",
        )
        .unwrap();
        let claims =
            json!({ "roles": ["Orderwatch.Advocate"], "groups": ["staff", "ow-agency-ADV-A"] });
        assert_eq!(
            entra.read(&claims).unwrap(),
            (Role::Advocate, "ADV-A".to_string())
        );
    }

    #[test]
    fn none_or_two_of_a_kind_are_refused() {
        let map = ClaimMap::parse(
            "role:roles,agency:agency,roles:POLICE|COURT|ADMIN,agencies:MET|WMC|MMC",
        )
        .unwrap();
        assert_eq!(
            map.read(&json!({ "roles": ["POLICE", "ADMIN"], "agency": "MET" }))
                .unwrap_err(),
            "token carries more than one orderwatch role"
        );
        assert_eq!(
            map.read(&json!({ "roles": ["POLICE", "police"], "agency": "MET" }))
                .unwrap()
                .0,
            Role::Police
        );
        assert_eq!(
            map.read(&json!({ "roles": ["reader"], "agency": "MET" }))
                .unwrap_err(),
            "token carries no orderwatch role"
        );
        assert_eq!(
            map.read(&json!({ "roles": "COURT", "agency": ["WMC", "MMC"] }))
                .unwrap_err(),
            "token carries more than one agency"
        );
        assert_eq!(
            map.read(&json!({ "roles": "COURT" })).unwrap_err(),
            "token carries no agency"
        );
        assert_eq!(
            map.read(&json!({ "roles": { "nested": "POLICE" }, "agency": "MET" }))
                .unwrap_err(),
            "token carries no orderwatch role"
        );
    }

    #[test]
    fn an_issuer_grants_only_the_roles_and_agencies_it_is_trusted_for() {
        let map = ClaimMap::parse("role:roles,agency:agency,roles:POLICE,agencies:MET").unwrap();
        assert_eq!(
            map.read(&json!({ "roles": "ADMIN", "agency": "MET" }))
                .unwrap_err(),
            "token carries a role its issuer may not grant"
        );
        assert_eq!(
            map.read(&json!({ "roles": "POLICE", "agency": "GMP" }))
                .unwrap_err(),
            "token carries an agency its issuer may not speak for"
        );
        assert_eq!(
            map.read(&json!({ "roles": "POLICE", "agency": "MET" }))
                .unwrap(),
            (Role::Police, "MET".to_string())
        );
        assert!(
            ClaimMap::parse("role:roles,agency:agency").is_err(),
            "roles is required"
        );
        assert!(ClaimMap::parse("role:roles,agency:agency,roles:CHIEF").is_err());
    }

    #[test]
    fn bad_specs_are_refused() {
        assert!(ClaimMap::parse("role:roles").is_err());
        assert!(ClaimMap::parse("role:roles,agency:a..b").is_err());
        assert!(ClaimMap::parse("role:roles,agency:a,colour:blue").is_err());
        assert!(ClaimMap::parse("roles,agency:a").is_err());
    }
}
