//! What the browser keeps for the operator: choices for good (`localStorage`: the theme, how times
//! show) and the Send page's drafts for as long as the tab lives (`sessionStorage`).

#[derive(Clone, Copy)]
pub enum Kept {
    /// Across visits.
    Always,
    /// For this tab, reloads and Back included.
    InTab,
}

fn storage(kept: Kept) -> Option<web_sys::Storage> {
    let window = web_sys::window()?;
    match kept {
        Kept::Always => window.local_storage(),
        Kept::InTab => window.session_storage(),
    }
    .ok()?
}

pub fn get(kept: Kept, key: &str) -> Option<String> {
    storage(kept)?.get_item(key).ok()?
}

/// Keeps `value` under `key` (a browser that keeps nothing forgets it, and the page goes on).
pub fn set(kept: Kept, key: &str, value: &str) {
    if let Some(s) = storage(kept) {
        let _ = s.set_item(key, value);
    }
}
