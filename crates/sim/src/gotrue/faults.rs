//! Injected faults: failing, delaying and dropping the next requests of a route.

use super::*;

impl ModelGoTrue {
    /// Answers the next `n` refresh grants with `status` and `body` (before the model looks at
    /// the token, so nothing rotates).
    pub fn fail_refreshes(&mut self, n: u32, status: u16, body: &str) {
        self.faults.push(FaultRule {
            route: RouteMatch::Grant("refresh_token"),
            action: FaultAction::Fail { status, body: String::from(body) },
            remaining: n,
        });
    }

    /// Delays the responses to the next `n` requests matching `route` by `ms`.
    pub fn delay_next(&mut self, route: RouteMatch, n: u32, ms: u64) {
        self.faults.push(FaultRule { route, action: FaultAction::Delay(ms), remaining: n });
    }

    /// Drops the responses to the next `n` requests matching `route` (they are processed).
    pub fn drop_next(&mut self, route: RouteMatch, n: u32) {
        self.faults.push(FaultRule { route, action: FaultAction::Drop, remaining: n });
    }

    pub(super) fn take_fault(
        &mut self,
        method: &str,
        path: &str,
        grant: Option<&str>,
        want: fn(&FaultAction) -> bool,
    ) -> Option<FaultAction> {
        let i = self
            .faults
            .iter()
            .position(|f| f.remaining > 0 && want(&f.action) && f.route.matches(method, path, grant))?;
        let f = &mut self.faults[i];
        f.remaining -= 1;
        let action = f.action.clone();
        if f.remaining == 0 {
            self.faults.remove(i);
        }
        Some(action)
    }

    // ---- HTTP -----------------------------------------------------------------------------
}
