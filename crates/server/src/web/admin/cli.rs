//! `locadocs user add`: the first administrator, and accounts made from a
//! terminal.

use anyhow::bail;

use crate::cli::UserCommand;
use crate::store::{Role, Store};

pub async fn run(store: &dyn Store, action: UserCommand) -> anyhow::Result<()> {
    match action {
        UserCommand::Add {
            email,
            admin,
            role,
            services,
        } => {
            let role = if admin {
                Role::Admin
            } else {
                match Role::parse(&role) {
                    Some(r) => r,
                    None => bail!("rôle « {role} » inconnu : admin, editor ou contributor"),
                }
            };
            if role == Role::Contributor && services.is_empty() {
                bail!("un contributeur a besoin d'au moins un --service");
            }
            let link = super::auth::cli_add_user(store, &email, role, &services).await?;
            println!(
                "Compte créé pour {} ({}). Lien à usage unique pour choisir le mot de passe :\n{link}",
                email.trim().to_lowercase(),
                role.label()
            );
            Ok(())
        }
    }
}
