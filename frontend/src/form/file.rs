//! Reading a file the operator picked, in the browser, with `FileReader`.

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Event, FileReader, HtmlInputElement};

/// A file as read: its name, its MIME type (empty when the browser does not know it), its bytes.
pub struct Picked {
    pub name: String,
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// Reads the file chosen in the `<input type=file>` that `ev` came from, then calls `done` with it, or
/// with what went wrong.
pub fn read_chosen(ev: &Event, done: impl FnOnce(Result<Picked, String>) + 'static) {
    let Some(file) = ev
        .target()
        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        .and_then(|input| input.files())
        .and_then(|files| files.get(0))
    else {
        return;
    };
    let reader = match FileReader::new() {
        Ok(r) => r,
        Err(e) => return done(Err(format!("{e:?}"))),
    };
    let (name, mime) = (file.name(), file.type_());
    let read = reader.clone();
    // Runs once, on load or on error, and frees itself then.
    let finished = Closure::once_into_js(move |_: Event| {
        let bytes = read
            .result()
            .ok()
            .filter(|r| !r.is_null())
            .map(|buffer| js_sys::Uint8Array::new(&buffer).to_vec());
        done(match bytes {
            Some(bytes) => Ok(Picked { name, mime, bytes }),
            None => Err(format!("cannot read {name}")),
        })
    });
    reader.set_onloadend(Some(finished.unchecked_ref()));
    // It fails only when the reader is busy already, and this one is new.
    let _ = reader.read_as_array_buffer(&file);
}
