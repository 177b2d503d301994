//! What patrolchat keeps of a person besides their work: the interface
//! language they chose and the grammatical gender their wiki gives, in one
//! hash per person ([`keys::person`]).
//!
//! Not a projection: no event carries either. The language is the
//! person's own setting, written as they make it (like ignore lists); the
//! gender is what the central wiki answered at their last sign-in. A
//! rebuild leaves both alone.

use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};

use crate::ProjectionError;
use crate::keys::{self, fields};

/// A person's grammatical gender, as MediaWiki's public gender preference
/// says it (`list=users&usprop=gender`). For messages that name the
/// person (`{{GENDER:…}}`), never for anything else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    /// `male`.
    Male,
    /// `female`.
    Female,
    /// Not said, or not known.
    #[default]
    Unknown,
}

impl Gender {
    /// A wiki's or Redis's word: `male` and `female` are themselves,
    /// anything else is [`Gender::Unknown`].
    pub fn parse(s: &str) -> Self {
        match s {
            "male" => Self::Male,
            "female" => Self::Female,
            _ => Self::Unknown,
        }
    }

    /// As MediaWiki writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Male => "male",
            Self::Female => "female",
            Self::Unknown => "unknown",
        }
    }
}

/// What is kept of one person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    /// The interface language they chose (a lowercase language tag).
    pub language: Option<String>,
    /// Their grammatical gender.
    pub gender: Gender,
}

/// The people's hashes.
#[derive(Clone)]
pub struct PeopleStore {
    conn: ConnectionManager,
}

impl PeopleStore {
    /// On this connection.
    pub fn new(conn: ConnectionManager) -> Self {
        Self { conn }
    }

    /// What is kept of `user` (nothing: no language, gender unknown).
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn person(&self, user: &str) -> Result<Person, ProjectionError> {
        let mut c = self.conn.clone();
        let (language, gender): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(keys::person(user))
            .arg(fields::LANGUAGE)
            .arg(fields::GENDER)
            .query_async(&mut c)
            .await?;
        Ok(Person {
            language,
            gender: gender.as_deref().map_or(Gender::Unknown, Gender::parse),
        })
    }

    /// Keeps `language` as `user`'s interface language (`None` forgets it).
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn set_language(
        &self,
        user: &str,
        language: Option<&str>,
    ) -> Result<(), ProjectionError> {
        let mut c = self.conn.clone();
        let key = keys::person(user);
        match language {
            Some(l) => c.hset::<_, _, _, ()>(key, fields::LANGUAGE, l).await?,
            None => c.hdel::<_, _, ()>(key, fields::LANGUAGE).await?,
        }
        Ok(())
    }

    /// Keeps `gender` as `user`'s.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn set_gender(&self, user: &str, gender: Gender) -> Result<(), ProjectionError> {
        let mut c = self.conn.clone();
        let () = c
            .hset(keys::person(user), fields::GENDER, gender.as_str())
            .await?;
        Ok(())
    }

    /// The gender of each of `users`, in their order, in one round trip;
    /// someone never seen is [`Gender::Unknown`].
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn genders(&self, users: &[String]) -> Result<Vec<Gender>, ProjectionError> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let mut p = redis::pipe();
        for u in users {
            p.hget(keys::person(u), fields::GENDER);
        }
        let mut c = self.conn.clone();
        let raw: Vec<Option<String>> = p.query_async(&mut c).await?;
        Ok(raw
            .iter()
            .map(|g| g.as_deref().map_or(Gender::Unknown, Gender::parse))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_male_and_female_are_known_genders() {
        for g in [Gender::Male, Gender::Female, Gender::Unknown] {
            assert_eq!(Gender::parse(g.as_str()), g);
            assert_eq!(
                serde_json::to_value(g).expect("JSON"),
                serde_json::json!(g.as_str())
            );
        }
        for other in ["", "Male", "FEMALE", "neutral", "unknown "] {
            assert_eq!(Gender::parse(other), Gender::Unknown, "{other:?}");
        }
    }
}
