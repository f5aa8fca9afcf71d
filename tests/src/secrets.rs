//! The secrets a test knows: distinctive keys and passwords, given to the console and the simulator
//! through the environment, and every form in which one could leak, for the secrets scan.

use crate::{b64, unique};

/// Distinctive API keys and callback passwords, set through the environment so tests know them (and
/// can scan for them).
#[derive(Debug, Clone)]
pub struct Secrets {
    pub idm_key: String,
    pub idm_password: String,
    pub da_key: String,
    pub da_password: String,
    /// The console's `admin`, set through `HERMOD_CONSOLE_ADMIN_PASSWORD` (or read from what `demo`
    /// printed, when the test leaves that variable out).
    pub admin_password: String,
}

pub const IDM_CALLBACK_USER: &str = "idm-callback";
pub const DA_CALLBACK_USER: &str = "da-callback";

impl Secrets {
    pub fn random() -> Secrets {
        Secrets {
            idm_key: unique("SeCrEtIdmKey"),
            idm_password: unique("SeCrEtIdmPw"),
            da_key: unique("SeCrEtDaKey"),
            da_password: unique("SeCrEtDaPw"),
            admin_password: unique("SeCrEtAdminPw"),
        }
    }

    /// Console and simulator overrides that make `demo` use these secrets on both sides.
    pub fn demo_env(&self) -> Vec<(String, String)> {
        let mut env = Vec::new();
        for (id, key, password, user) in [
            ("IDM", &self.idm_key, &self.idm_password, IDM_CALLBACK_USER),
            ("DA", &self.da_key, &self.da_password, DA_CALLBACK_USER),
        ] {
            env.push((format!("HERMOD_CONSOLE__CLIENTS__{id}__KEY"), key.clone()));
            env.push((
                format!("HERMOD_CONSOLE__CLIENTS__{id}__CALLBACK_PASSWORD"),
                password.clone(),
            ));
            env.push((format!("HERMOD_SIMULATOR__CLIENTS__{id}__KEY"), key.clone()));
            env.push((
                format!("HERMOD_SIMULATOR__CLIENTS__{id}__CALLBACK_BASIC_AUTH"),
                format!("{user}:{password}"),
            ));
        }
        env
    }

    /// The `X-Api-Key` header value of `idm`: base64 of `idm:<key>`.
    pub fn idm_api_key_header(&self) -> String {
        b64(format!("idm:{}", self.idm_key))
    }

    /// Every form in which a secret could leak: raw keys and passwords, the `X-Api-Key` values and the
    /// Basic credentials as sent on the wire, the admin's password.
    pub fn forms(&self) -> Vec<String> {
        vec![
            self.admin_password.clone(),
            self.idm_key.clone(),
            self.idm_password.clone(),
            self.da_key.clone(),
            self.da_password.clone(),
            b64(format!("idm:{}", self.idm_key)),
            b64(format!("da:{}", self.da_key)),
            b64(format!("{IDM_CALLBACK_USER}:{}", self.idm_password)),
            b64(format!("{DA_CALLBACK_USER}:{}", self.da_password)),
        ]
    }
}
