//! The demo seed: organizations, apps and connections served when no data file is given.
//!
//! TIBCO: parent `100` (the demo client's organization) with children `101`..`125`, and a
//! second family, parent `200` with children `201` and `202`, that the demo token may not touch.

use super::{OracleConnection, TibcoApp, TibcoOrganization};

/// Locators of the demo parent's children: `101`..`125`.
pub(crate) const CHILD_COUNT: u32 = 25;

pub(crate) fn tibco_organizations() -> Vec<TibcoOrganization> {
    let mut orgs = vec![org(
        "100",
        "Acme Integration (parent)",
        None,
        vec![
            app("a1b2c3d4-0001", "order-sync"),
            app("a1b2c3d4-0002", "invoice-export"),
            app("a1b2c3d4-0003", "customer-api"),
        ],
    )];
    for n in 1..=CHILD_COUNT {
        let locator = (100 + n).to_string();
        let apps = vec![app(
            &format!("c{locator}-0001"),
            &format!("child-{locator}-worker"),
        )];
        orgs.push(org(
            &locator,
            &format!("Acme Child {n:02}"),
            Some("100"),
            apps,
        ));
    }
    orgs.push(org(
        "200",
        "Globex Integration (parent)",
        None,
        vec![app("g2000000-0001", "globex-ledger")],
    ));
    for locator in ["201", "202"] {
        let name = format!("Globex Child {locator}");
        orgs.push(org(locator, &name, Some("200"), Vec::new()));
    }
    orgs
}

pub(crate) fn oracle_connections() -> Vec<OracleConnection> {
    vec![
        connection("REST_TRIGGER", "REST Trigger", "CONFIGURED", "TRIGGER"),
        connection(
            "ORACLE_ERP_CLOUD",
            "Oracle ERP Cloud",
            "CONFIGURED",
            "INVOKE",
        ),
        connection(
            "SALESFORCE_CRM",
            "Salesforce CRM",
            "INPROGRESS",
            "TRIGGER_AND_INVOKE",
        ),
        connection("FTP_ARCHIVE", "FTP Archive", "CONFIGURED", "INVOKE"),
    ]
}

fn org(locator: &str, name: &str, parent: Option<&str>, apps: Vec<TibcoApp>) -> TibcoOrganization {
    TibcoOrganization {
        locator: locator.to_owned(),
        name: name.to_owned(),
        parent: parent.map(str::to_owned),
        api_access: false,
        apps,
    }
}

fn app(id: &str, name: &str) -> TibcoApp {
    TibcoApp {
        id: id.to_owned(),
        name: name.to_owned(),
        state: "Running".to_owned(),
    }
}

fn connection(id: &str, name: &str, status: &str, role: &str) -> OracleConnection {
    OracleConnection {
        id: id.to_owned(),
        name: name.to_owned(),
        status: status.to_owned(),
        role: Some(role.to_owned()),
    }
}
