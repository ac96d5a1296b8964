//! The decision log of a job and the status summaries built from it.

use crate::decision::{Category, Decision};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Arc;

/// Violations (denied and held requests) kept for the status view, per job.
pub const MAX_VIOLATIONS: usize = 20;

/// One decision, with everything needed to explain it later.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionRecord {
    /// Milliseconds since the Unix epoch.
    pub time_ms: u64,
    pub job_id: String,
    pub session_id: String,
    pub permission_id: String,
    /// The permission OpenCode asked for, such as `edit` or `bash`.
    pub permission: String,
    pub category: Category,
    pub target: String,
    pub layer: &'static str,
    pub rule: String,
    pub decision: Decision,
    pub reason: String,
}

/// Decisions of one category, counted by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionCounts {
    pub auto_approve: u64,
    pub ask_user: u64,
    pub deny: u64,
}

impl DecisionCounts {
    fn add(&mut self, decision: Decision, count: u64) {
        let slot = match decision {
            Decision::AutoApprove => &mut self.auto_approve,
            Decision::AskUser => &mut self.ask_user,
            Decision::Deny => &mut self.deny,
        };
        *slot = slot.saturating_add(count);
    }

    fn merge(&mut self, other: &DecisionCounts) {
        self.add(Decision::AutoApprove, other.auto_approve);
        self.add(Decision::AskUser, other.ask_user);
        self.add(Decision::Deny, other.deny);
    }

    pub fn total(&self) -> u64 {
        self.auto_approve.saturating_add(self.ask_user).saturating_add(self.deny)
    }
}

/// A bounded log: the newest `capacity` records, the number dropped before
/// them, and counts over every decision ever recorded.
#[derive(Debug, Clone)]
pub struct DecisionLog {
    entries: VecDeque<Arc<DecisionRecord>>,
    capacity: usize,
    dropped: u64,
    counts: [DecisionCounts; Category::ALL.len()],
    violations: VecDeque<Arc<DecisionRecord>>,
}

impl DecisionLog {
    pub fn new(capacity: usize) -> DecisionLog {
        DecisionLog {
            entries: VecDeque::new(),
            capacity,
            dropped: 0,
            counts: [DecisionCounts::default(); Category::ALL.len()],
            violations: VecDeque::new(),
        }
    }

    /// Appends a record, dropping the oldest when the log is full.
    pub fn record(&mut self, record: DecisionRecord) {
        self.counts[category_index(record.category)].add(record.decision, 1);
        // Shared by the log and the violations, which keep one record twice.
        let record = Arc::new(record);

        if record.decision != Decision::AutoApprove {
            if self.violations.len() == MAX_VIOLATIONS {
                self.violations.pop_front();
            }
            self.violations.push_back(Arc::clone(&record));
        }

        if self.capacity == 0 {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
            self.dropped = self.dropped.saturating_add(1);
        }
        self.entries.push_back(record);
    }

    pub fn entries(&self) -> impl Iterator<Item = &DecisionRecord> {
        self.entries.iter().map(|record| &**record)
    }

    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Builds the status summary of this log, for the job `name`.
    pub fn status(&self, name: &str) -> Status {
        let mut status = Status::empty("job", name);
        status.add_log(self);
        status.finish();
        status
    }
}

fn category_index(category: Category) -> usize {
    Category::ALL.iter().position(|candidate| *candidate == category).unwrap_or(Category::ALL.len() - 1)
}

/// Decision counts of one category in a status summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryStatus {
    pub category: Category,
    #[serde(flatten)]
    pub counts: DecisionCounts,
}

/// A summary of a job's or a plan's decisions, ready for a status view.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// `job` or `plan`.
    pub scope: String,
    pub name: String,
    pub total: DecisionCounts,
    /// Categories with at least one decision, in a fixed order.
    pub categories: Vec<CategoryStatus>,
    /// The newest denied and held requests, oldest first.
    pub latest_violations: Vec<DecisionRecord>,
    /// Log entries dropped because the log was full.
    pub dropped: u64,
    /// One-line text renderings: a summary line, then one per violation.
    pub lines: Vec<String>,
}

impl Status {
    pub fn empty(scope: &str, name: &str) -> Status {
        Status {
            scope: scope.to_string(),
            name: name.to_string(),
            total: DecisionCounts::default(),
            categories: Vec::new(),
            latest_violations: Vec::new(),
            dropped: 0,
            lines: Vec::new(),
        }
    }

    /// Adds a job's log to this summary; call `finish` after the last one.
    pub fn add_log(&mut self, log: &DecisionLog) {
        for (index, counts) in log.counts.iter().enumerate() {
            if counts.total() == 0 {
                continue;
            }
            self.total.merge(counts);
            let category = Category::ALL.get(index).copied().unwrap_or(Category::Other);
            match self.categories.iter_mut().find(|entry| entry.category == category) {
                Some(entry) => entry.counts.merge(counts),
                None => self.categories.push(CategoryStatus { category, counts: *counts }),
            }
        }
        self.latest_violations.extend(log.violations.iter().map(|record| DecisionRecord::clone(record)));
        self.dropped = self.dropped.saturating_add(log.dropped);
    }

    /// Orders the parts and renders the text lines.
    pub fn finish(&mut self) {
        self.categories.sort_by_key(|entry| category_index(entry.category));
        self.latest_violations.sort_by_key(|record| record.time_ms);
        let excess = self.latest_violations.len().saturating_sub(MAX_VIOLATIONS);
        self.latest_violations.drain(..excess);

        self.lines = vec![self.summary_line()];
        self.lines.extend(self.latest_violations.iter().map(violation_line));
    }

    fn summary_line(&self) -> String {
        let total = self.total;
        format!(
            "{} {}: {} decisions ({} auto-approve, {} ask-user, {} deny)",
            self.scope,
            self.name,
            total.total(),
            total.auto_approve,
            total.ask_user,
            total.deny
        )
    }
}

fn violation_line(record: &DecisionRecord) -> String {
    format!(
        "{} {} {} {} by {} ({}): {}",
        record.decision.as_str(),
        record.category.as_str(),
        record.target,
        record.job_id,
        record.rule,
        record.layer,
        record.reason
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(time_ms: u64, decision: Decision) -> DecisionRecord {
        DecisionRecord {
            time_ms,
            job_id: "job-a".into(),
            session_id: "ses_1".into(),
            permission_id: format!("per_{time_ms}"),
            permission: "edit".into(),
            category: Category::FileEdit,
            target: "/w/x".into(),
            layer: "default",
            rule: "file_edit.outside_worktree".into(),
            decision,
            reason: "outside the worktree".into(),
        }
    }

    #[test]
    fn full_log_drops_oldest_and_counts_drops() {
        let mut log = DecisionLog::new(2);
        for time in 1..=5 {
            log.record(record(time, Decision::AutoApprove));
        }
        let times: Vec<u64> = log.entries().map(|entry| entry.time_ms).collect();
        assert_eq!(times, vec![4, 5]);
        assert_eq!(log.dropped(), 3);
        assert_eq!(log.status("job-a").total.auto_approve, 5);
    }

    #[test]
    fn status_lists_violations_and_lines() {
        let mut log = DecisionLog::new(10);
        log.record(record(1, Decision::AutoApprove));
        log.record(record(2, Decision::Deny));
        log.record(record(3, Decision::AskUser));
        let status = log.status("job-a");
        assert_eq!(status.total, DecisionCounts { auto_approve: 1, ask_user: 1, deny: 1 });
        assert_eq!(status.latest_violations.len(), 2);
        assert_eq!(status.lines[0], "job job-a: 3 decisions (1 auto-approve, 1 ask-user, 1 deny)");
        assert_eq!(
            status.lines[1],
            "deny file_edit /w/x job-a by file_edit.outside_worktree (default): outside the worktree"
        );
    }

    #[test]
    fn violations_are_bounded() {
        let mut log = DecisionLog::new(0);
        for time in 0..(MAX_VIOLATIONS as u64 + 5) {
            log.record(record(time, Decision::Deny));
        }
        let status = log.status("job-a");
        assert_eq!(status.latest_violations.len(), MAX_VIOLATIONS);
        assert_eq!(status.latest_violations[0].time_ms, 5);
        assert_eq!(status.dropped, MAX_VIOLATIONS as u64 + 5);
    }
}
