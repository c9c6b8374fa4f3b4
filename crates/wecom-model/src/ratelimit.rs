//! Frequency limits (主动调用频率限制, wecom-api.md §1.8) as counting rules over fixed windows.
//! The counters' storage is the server's; the arithmetic is here.

/// `limit` calls per `window` seconds; the call that goes over blocks the key for `block` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub limit: u32,
    pub window: i64,
    pub block: i64,
}

const fn rule(limit: u32, window: i64) -> Rule {
    // The platform blocks for as long as the window that was exceeded (minute → 60 s, hour → 1 h).
    Rule { limit, window, block: window }
}

/// Per corp and per API path: 10,000 a minute and 150,000 an hour.
pub const PER_CORP_API: [Rule; 2] = [rule(10_000, 60), rule(150_000, 3600)];
/// Per caller IP over all corps (self-built apps): 20,000 a minute and 600,000 an hour.
pub const PER_IP: [Rule; 2] = [rule(20_000, 60), rule(600_000, 3600)];
/// gettoken with a wrong secret: the platform bans the IP for an hour after "several" failures;
/// the count is not published, wecomd takes 20 within an hour (compatibility ledger).
pub const GETTOKEN_BAD_SECRET_PER_IP: [Rule; 1] = [rule(20, 3600)];
/// `debug=1` calls: 5 a minute.
pub const DEBUG_MODE: [Rule; 1] = [rule(5, 60)];

/// The first second of the fixed window of `window` seconds that holds `now`, windows starting
/// `offset` seconds before multiples of `window` after the epoch.
fn window_start(now: i64, window: i64, offset: i64) -> i64 {
    now - (now + offset).rem_euclid(window)
}

/// China is UTC+8, all year.
const CHINA_UTC_OFFSET: i64 = 8 * 3600;

/// Daily limits count calendar days in China (UTC+8): "until the next natural day" (§1.8).
pub fn day_start(now: i64) -> i64 {
    window_start(now, 86_400, CHINA_UTC_OFFSET)
}

/// A recipient throttle: at most `limit` messages reach one member per fixed window of `window`
/// seconds; the platform drops the rest without an error (wecom-api.md §1.8, doc 90454). Windows
/// start at multiples of `window` after `offset` seconds before the epoch (days are natural days in
/// China, UTC+8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: i64,
    pub window: i64,
    pub offset: i64,
}

impl Quota {
    /// The first second of the window that holds `now`.
    pub fn start(&self, now: i64) -> i64 {
        window_start(now, self.window, self.offset)
    }
}

/// message/send: one app reaches one member at most 30 times a minute and 1000 times an hour.
pub const PER_MEMBER_FROM_APP: [Quota; 2] = [Quota { limit: 30, window: 60, offset: 0 }, Quota { limit: 1000, window: 3600, offset: 0 }];
/// appchat/send: a member receives at most 200 app messages a minute and 10,000 a day in chats.
pub const PER_MEMBER_IN_APPCHATS: [Quota; 2] =
    [Quota { limit: 200, window: 60, offset: 0 }, Quota { limit: 10_000, window: 86_400, offset: CHINA_UTC_OFFSET }];

/// The state of one rule for one key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counter {
    window_start: i64,
    count: u32,
    blocked_until: i64,
}

impl Counter {
    fn blocked(&self, now: i64) -> bool {
        now < self.blocked_until
    }

    /// Counts one call; `false` when this call goes over the limit (and starts the block).
    fn count(&mut self, rule: &Rule, now: i64) -> bool {
        let start = window_start(now, rule.window, 0);
        if start != self.window_start {
            self.window_start = start;
            self.count = 0;
        }
        self.count += 1;
        if self.count > rule.limit {
            self.blocked_until = now + rule.block;
            false
        } else {
            true
        }
    }
}

/// Counts a call against every rule of a key. A call refused while blocked is not counted.
pub fn admit<const N: usize>(counters: &mut [Counter; N], rules: &[Rule; N], now: i64) -> bool {
    if counters.iter().any(|c| c.blocked(now)) {
        return false;
    }
    let mut ok = true;
    for (c, r) in counters.iter_mut().zip(rules) {
        ok &= c.count(r, now);
    }
    ok
}

/// Is a key blocked now, without counting a call (for limits counted only on failure).
pub fn is_blocked<const N: usize>(counters: &[Counter; N], now: i64) -> bool {
    counters.iter().any(|c| c.blocked(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minute_limit_blocks_for_a_minute() {
        let rules = [rule(3, 60)];
        let mut c = [Counter::default()];
        let t0 = 1_000_020; // 20 s into a minute window
        assert!(admit(&mut c, &rules, t0));
        assert!(admit(&mut c, &rules, t0));
        assert!(admit(&mut c, &rules, t0 + 1));
        assert!(!admit(&mut c, &rules, t0 + 2), "4th call in the window goes over");
        assert!(is_blocked(&c, t0 + 2));
        // Still blocked after the window rolled over, until 60 s after the excess.
        assert!(!admit(&mut c, &rules, t0 + 50));
        assert!(!admit(&mut c, &rules, t0 + 61));
        assert!(admit(&mut c, &rules, t0 + 62));
    }

    #[test]
    fn new_window_resets_the_count() {
        let rules = [rule(2, 60)];
        let mut c = [Counter::default()];
        assert!(admit(&mut c, &rules, 59));
        assert!(admit(&mut c, &rules, 59));
        assert!(admit(&mut c, &rules, 60), "a new minute starts at 60");
        assert!(admit(&mut c, &rules, 61));
        assert!(!admit(&mut c, &rules, 62));
    }

    #[test]
    fn hour_limit_applies_alongside_minute_limit() {
        let rules = [rule(5, 60), rule(7, 3600)];
        let mut c = [Counter::default(); 2];
        for m in 0..3 {
            let now = m * 60;
            let allowed = (0..3).filter(|_| admit(&mut c, &rules, now)).count();
            if m < 2 {
                assert_eq!(allowed, 3);
            } else {
                assert_eq!(allowed, 1, "the hour allows 7 in all");
            }
        }
        assert!(!admit(&mut c, &rules, 3599));
        assert!(!admit(&mut c, &rules, 3600 + 100), "blocked an hour from the excess at 120");
        assert!(admit(&mut c, &rules, 120 + 3600));
    }

    #[test]
    fn quota_windows() {
        let [minute, hour] = PER_MEMBER_FROM_APP;
        assert_eq!((minute.limit, hour.limit), (30, 1000));
        assert_eq!(minute.start(119), 60);
        assert_eq!(hour.start(7199), 3600);
        let day = PER_MEMBER_IN_APPCHATS[1];
        assert_eq!((PER_MEMBER_IN_APPCHATS[0].limit, day.limit), (200, 10_000));
        // 2024-01-01 00:00 in China is 2023-12-31 16:00 UTC (1704038400).
        assert_eq!(day.start(1_704_038_400), 1_704_038_400);
        assert_eq!(day.start(1_704_038_400 + 86_399), 1_704_038_400);
        assert_eq!(day.start(1_704_038_399), 1_704_038_400 - 86_400);
    }

    #[test]
    fn days_start_at_midnight_in_china() {
        // 2024-03-01 00:00 +08:00 is 2024-02-29 16:00 UTC.
        let midnight = 1_709_222_400;
        assert_eq!(day_start(midnight), midnight);
        assert_eq!(day_start(midnight + 86_399), midnight);
        assert_eq!(day_start(midnight - 1), midnight - 86_400);
    }

    #[test]
    fn platform_figures() {
        assert_eq!(PER_CORP_API, [Rule { limit: 10_000, window: 60, block: 60 }, Rule { limit: 150_000, window: 3600, block: 3600 }]);
        assert_eq!(PER_IP[0].limit, 20_000);
        assert_eq!(PER_IP[1].limit, 600_000);
        assert_eq!(DEBUG_MODE[0], Rule { limit: 5, window: 60, block: 60 });
        assert_eq!(GETTOKEN_BAD_SECRET_PER_IP[0].block, 3600);
    }
}
