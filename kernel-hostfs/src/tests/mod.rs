//! Tests of `HostFs` on real host directories: the escape suite (`escape`), which proves
//! confinement, and `operations`, which checks every `INode` operation against what std
//! sees on the host.

mod escape;
mod operations;
mod support;
