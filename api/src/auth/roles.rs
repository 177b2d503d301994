//! Roles from wiki groups and rights.

use serde::Serialize;

use crate::config::RoleConfig;

/// What a signed-in person may do; ordered, each includes the ones before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read and discuss.
    Reader,
    /// Also claim, resolve and escalate.
    Patroller,
    /// Also moderate, take over claims and manage bot tokens.
    Admin,
}

impl Role {
    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reader => "reader",
            Self::Patroller => "patroller",
            Self::Admin => "admin",
        }
    }
}

/// The mapping from groups and rights to roles.
#[derive(Debug, Clone)]
pub struct RoleMap {
    cfg: RoleConfig,
}

impl RoleMap {
    /// From settings.
    pub fn new(cfg: RoleConfig) -> Self {
        Self { cfg }
    }

    /// The role of someone with these groups and rights.
    pub fn role(&self, groups: &[String], rights: &[String]) -> Role {
        let any = |have: &[String], want: &[String]| have.iter().any(|h| want.contains(h));
        if any(groups, &self.cfg.admin_groups) {
            Role::Admin
        } else if any(groups, &self.cfg.patroller_groups) || any(rights, &self.cfg.patroller_rights)
        {
            Role::Patroller
        } else {
            Role::Reader
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> RoleMap {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        RoleMap::new(RoleConfig {
            patroller_rights: s(&["patrol", "rollback"]),
            patroller_groups: s(&["rollbacker", "patroller", "reviewer"]),
            admin_groups: s(&["sysop", "steward", "global-sysop"]),
        })
    }

    fn v(x: &[&str]) -> Vec<String> {
        x.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn groups_alone_give_roles_as_dev_login_sends_them() {
        let m = map();
        assert_eq!(m.role(&v(&["user"]), &[]), Role::Reader);
        assert_eq!(m.role(&v(&["user", "rollbacker"]), &[]), Role::Patroller);
        assert_eq!(m.role(&v(&["reviewer"]), &[]), Role::Patroller);
        assert_eq!(m.role(&v(&["sysop"]), &[]), Role::Admin);
        assert_eq!(m.role(&v(&["global-sysop"]), &[]), Role::Admin);
    }

    #[test]
    fn rights_give_the_patroller_role() {
        let m = map();
        assert_eq!(
            m.role(&v(&["user"]), &v(&["edit", "patrol"])),
            Role::Patroller
        );
        assert_eq!(m.role(&v(&["user"]), &v(&["edit"])), Role::Reader);
    }
}
