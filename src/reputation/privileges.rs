//! Privileges earned by reputation (a configurable table: `NAVE_PRIVILEGES`). Staff, admins and
//! people given the superuser role by an admin hold every privilege.

use serde::Serialize;

use crate::accounts::User;
use crate::domain::Role;
use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Privilege {
    VoteUp,
    Flag,
    /// Comment on anyone's post (everyone may comment on their own posts and on answers to
    /// their own questions).
    CommentEverywhere,
    SetBounty,
    VoteDown,
    CreateTags,
    ReviewQueue,
    SeeVoteSplits,
    /// Edit others' posts without review.
    EditFreely,
    VoteToClose,
    /// Moderator tools: hide/unhide, lock, handle flags, close or reopen at once, mark duplicate.
    Superuser,
}

impl Privilege {
    pub const ALL: [Privilege; 11] = [
        Privilege::VoteUp,
        Privilege::Flag,
        Privilege::CommentEverywhere,
        Privilege::SetBounty,
        Privilege::VoteDown,
        Privilege::CreateTags,
        Privilege::ReviewQueue,
        Privilege::SeeVoteSplits,
        Privilege::EditFreely,
        Privilege::VoteToClose,
        Privilege::Superuser,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Privilege::VoteUp => "vote_up",
            Privilege::Flag => "flag",
            Privilege::CommentEverywhere => "comment_everywhere",
            Privilege::SetBounty => "set_bounty",
            Privilege::VoteDown => "vote_down",
            Privilege::CreateTags => "create_tags",
            Privilege::ReviewQueue => "review_queue",
            Privilege::SeeVoteSplits => "see_vote_splits",
            Privilege::EditFreely => "edit_freely",
            Privilege::VoteToClose => "vote_to_close",
            Privilege::Superuser => "superuser",
        }
    }

    /// How messages and the profile name it.
    pub fn label(self) -> &'static str {
        match self {
            Privilege::VoteUp => "Voting up",
            Privilege::Flag => "Flagging posts",
            Privilege::CommentEverywhere => "Commenting everywhere",
            Privilege::SetBounty => "Offering a bounty",
            Privilege::VoteDown => "Voting down",
            Privilege::CreateTags => "Creating new tags",
            Privilege::ReviewQueue => "The review queue",
            Privilege::SeeVoteSplits => "Seeing up and down votes",
            Privilege::EditFreely => "Editing others' posts without review",
            Privilege::VoteToClose => "Voting to close and reopen",
            Privilege::Superuser => "Moderator tools (superuser)",
        }
    }
}

/// Reputation needed for each privilege.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Privileges {
    pub thresholds: [(Privilege, i64); 11],
}

impl Default for Privileges {
    fn default() -> Self {
        use Privilege::*;
        Privileges {
            thresholds: [
                (VoteUp, 15),
                (Flag, 15),
                (CommentEverywhere, 50),
                (SetBounty, 75),
                (VoteDown, 125),
                (CreateTags, 300),
                (ReviewQueue, 500),
                (SeeVoteSplits, 1000),
                (EditFreely, 1000),
                (VoteToClose, 1000),
                (Superuser, 2000),
            ],
        }
    }
}

impl Privileges {
    /// Every privilege at `n` (tests and small private sites).
    pub fn all_at(n: i64) -> Self {
        let mut p = Privileges::default();
        for t in p.thresholds.iter_mut() {
            t.1 = n;
        }
        p
    }

    /// The same table with one threshold changed.
    pub fn with(mut self, p: Privilege, n: i64) -> Self {
        for t in self.thresholds.iter_mut().filter(|(q, _)| *q == p) {
            t.1 = n;
        }
        self
    }

    pub fn needed(&self, p: Privilege) -> i64 {
        self.thresholds.iter().find(|(q, _)| *q == p).map(|(_, n)| *n).unwrap_or(i64::MAX)
    }

    /// Whether the person holds the privilege.
    pub fn has(&self, user: &User, p: Privilege) -> bool {
        let role = user.role();
        role.is_staff() || role == Role::Superuser || user.reputation >= self.needed(p)
    }

    /// `Ok` when the person holds it; otherwise a 403 naming the privilege and what it needs.
    pub fn require(&self, user: &User, p: Privilege) -> Result<(), Error> {
        if self.has(user, p) {
            return Ok(());
        }
        Err(Error::forbidden(
            "privilege_required",
            format!("{} needs {} reputation; you have {}.", p.label(), self.needed(p), user.reputation),
        ))
    }

    /// The privileges the person holds, in order, and the next one with what it needs.
    pub fn held(&self, user: &User) -> (Vec<Privilege>, Option<(Privilege, i64)>) {
        let mut sorted = self.thresholds;
        sorted.sort_by_key(|(_, n)| *n);
        let held = sorted.iter().filter(|(p, _)| self.has(user, *p)).map(|(p, _)| *p).collect();
        let next = sorted.iter().find(|(p, _)| !self.has(user, *p)).copied();
        (held, next)
    }

    /// Parses `name=reputation` pairs separated by commas; names not given keep their defaults.
    pub fn parse(s: &str) -> Result<Privileges, String> {
        let mut p = Privileges::default();
        for pair in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
            let (k, v) = pair.split_once('=').ok_or_else(|| format!("{pair:?} is not name=reputation"))?;
            let v: i64 = v.trim().parse().map_err(|_| format!("{k}: {v:?} is not a whole number"))?;
            if !(0..=1_000_000).contains(&v) {
                return Err(format!("{k}: {v} is out of range (0..=1000000)"));
            }
            let slot = p
                .thresholds
                .iter_mut()
                .find(|(q, _)| q.as_str() == k.trim())
                .ok_or_else(|| format!("unknown privilege {:?}", k.trim()))?;
            slot.1 = v;
        }
        Ok(p)
    }
}
