//! The simulator as its users see it: exported worlds and the fake servers.

mod export;
mod servers;
