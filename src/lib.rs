//! authwire browser shell.
