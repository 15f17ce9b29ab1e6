//! `rollcall escalate`: open an escalation from a script and print its id.

use std::process::ExitCode;

use anyhow::Context as _;

use super::Ctx;
use super::output::print;
use crate::config::Config;
use crate::domain::escalation::{Category, Priority, check_assignee, check_title};
use crate::storage::StoreError;
use crate::storage::escalations::{self, NewEscalation};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The contact's id in the CRM (CiviCRM's Contact ID, NationBuilder's id, ...)
    #[arg(long, value_name = "ID")]
    contact: String,
    /// The CRM source the contact id belongs to, when more than one source has that id
    #[arg(long, value_name = "SOURCE")]
    source: Option<String>,
    /// complaint, renewal_payment, member_concern, data_protection, safeguarding,
    /// dispute_disciplinary or other
    #[arg(long, value_name = "CATEGORY")]
    category: Category,
    /// urgent, high, normal or low: sets the due date (a data protection request is due one
    /// calendar month after opening whatever its priority)
    #[arg(long, value_name = "PRIORITY")]
    priority: Priority,
    /// One line saying what it is about
    #[arg(long, value_name = "TEXT")]
    title: String,
    /// The details
    #[arg(long, value_name = "TEXT", default_value = "")]
    description: String,
    /// The staff member who owns it [default: nobody]
    #[arg(long, value_name = "STAFF")]
    assign: Option<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let config = Config::load_default()?;
    let title = check_title(&args.title).context("--title")?;
    let assignee = match &args.assign {
        Some(name) => check_assignee(name).context("--assign")?,
        None => None,
    };
    if !ctx.database_exists() {
        return Err(StoreError::Missing {
            path: ctx.db.shown(),
        }
        .into());
    }
    let mut store = ctx.open_store()?;
    let contact_id =
        escalations::contact_by_crm_id(&store.conn, args.contact.trim(), args.source.as_deref())
            .context("--contact")?;
    let new = NewEscalation {
        contact_id: Some(contact_id),
        membership_id: None,
        category: args.category,
        priority: args.priority,
        title,
        description: args.description,
        assignee,
    };
    let id = escalations::open(&mut store, &ctx.clock, &config.escalations, &new)?;
    print(format!("{id}\n"))?;
    Ok(ExitCode::SUCCESS)
}
