//! The ioctl ABI of `/dev/rvisor`, generated from `include/uapi/linux/rvisor.h`.
#![allow(non_camel_case_types, non_upper_case_globals, dead_code)]

include!(concat!(env!("OUT_DIR"), "/uapi.rs"));
