//! What the index holds: one [`Doc`] per message, item, note and report,
//! made from the events of the streams.

use patrolchat_model::item::{Item, Message, Note, Report};
use patrolchat_projection::visibility::wiki_of_message;
use serde::{Deserialize, Serialize};

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A message in an item's thread, a room or a private conversation.
    Message,
    /// An item: its title, performer and edit summaries.
    Item,
    /// An admin's private note on an item.
    Note,
    /// A report to the admins.
    Report,
}

impl Kind {
    /// The name, as answered and indexed.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::Item => "item",
            Self::Note => "note",
            Self::Report => "report",
        }
    }
}

/// One document, as stored with the index: enough to index it again
/// (a hidden message), to decide who may see it, and to answer it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Doc {
    /// What it is.
    pub kind: Kind,
    /// The message, item, note or report id.
    pub id: String,
    /// The words searched and shown (a message's text, an item's title and
    /// edit summaries, a note, a report's reason).
    pub text: String,
    /// An item's page title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Who wrote or made it: a message's author, an item's performer, a
    /// note's admin, the person a report is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Whether the author is a bot.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bot: bool,
    /// Who reported (a report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter: Option<String>,
    /// A message's thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<String>,
    /// The item it is of (a report: its own item in `reports`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// The wiki, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wiki: Option<String>,
    /// An item's workflows; a room message's workflow.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workflows: Vec<String>,
    /// The people of a private conversation, who alone may read it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participants: Vec<String>,
    /// A hidden message.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
    /// Unix milliseconds.
    pub at: i64,
}

impl Doc {
    /// The index's key of the document: unique across kinds.
    pub fn key(&self) -> String {
        key(self.kind, &self.id)
    }

    /// Whether the text holds a link.
    pub fn has_link(&self) -> bool {
        self.text.contains("http://") || self.text.contains("https://")
    }

    /// A thread or room message, or one of a private conversation.
    pub fn message(m: &Message) -> Self {
        let wiki = m
            .wiki
            .as_ref()
            .map(ToString::to_string)
            .or_else(|| wiki_of_message(&m.id).map(str::to_owned));
        Self {
            kind: Kind::Message,
            id: m.id.clone(),
            text: m.text.clone(),
            title: None,
            author: Some(m.author.clone()),
            bot: m.bot,
            reporter: None,
            thread: Some(m.thread.clone()),
            item: m.item.as_ref().map(ToString::to_string),
            wiki,
            workflows: m.workflow.iter().cloned().collect(),
            participants: m.participants.clone(),
            hidden: false,
            at: m.at,
        }
    }

    /// An item: its title, performer and edit summaries.
    pub fn item(item: &Item) -> Self {
        let mut text = item.title.clone();
        let mut seen = std::collections::HashSet::new();
        for comment in item.revisions.iter().filter_map(|r| r.comment.as_deref()) {
            if !comment.trim().is_empty() && seen.insert(comment) {
                text.push('\n');
                text.push_str(comment);
            }
        }
        Self {
            kind: Kind::Item,
            id: item.id.to_string(),
            text,
            title: Some(item.title.clone()),
            author: Some(item.user.clone()),
            bot: false,
            reporter: None,
            thread: None,
            item: Some(item.id.to_string()),
            wiki: Some(item.wiki.to_string()),
            workflows: item.workflows.clone(),
            participants: Vec::new(),
            hidden: false,
            at: item.created_at,
        }
    }

    /// An admin's private note.
    pub fn note(n: &Note) -> Self {
        Self {
            kind: Kind::Note,
            id: n.id.clone(),
            text: n.text.clone(),
            title: None,
            author: Some(n.author.clone()),
            bot: false,
            reporter: None,
            thread: None,
            item: Some(n.item.to_string()),
            wiki: patrolchat_projection::visibility::wiki_of_item(n.item.as_str())
                .map(str::to_owned),
            workflows: Vec::new(),
            participants: Vec::new(),
            hidden: false,
            at: n.at,
        }
    }

    /// A report; `wiki` is the reported message's, when known.
    pub fn report(r: &Report, wiki: Option<String>) -> Self {
        Self {
            kind: Kind::Report,
            id: r.id.to_string(),
            text: r.reason.clone(),
            title: None,
            author: Some(r.user.clone()),
            bot: false,
            reporter: Some(r.reporter.clone()),
            thread: r
                .message
                .as_deref()
                .map(|m| m.rsplit_once('.').map_or(m, |(t, _)| t).to_owned()),
            item: Some(r.id.to_string()),
            wiki,
            workflows: Vec::new(),
            participants: Vec::new(),
            hidden: false,
            at: r.at,
        }
    }
}

/// The index's key of a document.
pub fn key(kind: Kind, id: &str) -> String {
    format!("{}:{id}", kind.as_str())
}

/// A person's name as `from:` matches it: MediaWiki's spaces and
/// underscores alike, and case ignored.
pub fn name_key(name: &str) -> String {
    name.trim().replace('_', " ").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_as_mediawiki_writes_them() {
        assert_eq!(name_key(" Some_User "), name_key("some user"));
    }
}
