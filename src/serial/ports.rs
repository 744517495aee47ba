//! Serial port discovery for `actprof ports`: every port the system lists, its USB
//! identity when it has one, and the devices actprof recognises.

use serde::Serialize;
use serialport::{SerialPortInfo, SerialPortType};

use super::SerialError;

/// USB vendor ID of Nordic Semiconductor, the PPK2's maker. [UNCONFIRMED: the PPK2's
/// VID/PID pair is general knowledge; protocols.md §3.1 documents its product string.]
pub const NORDIC_VID: u16 = 0x1915;

/// USB product ID of the PPK2 (with [`NORDIC_VID`]). [UNCONFIRMED, as above.]
pub const PPK2_PID: u16 = 0xc00a;

/// One port as `actprof ports` shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PortEntry {
    /// Device path, e.g. `/dev/ttyACM0`.
    pub name: String,
    /// Bus: `usb`, `pci`, `bluetooth` or `unknown`.
    pub bus: &'static str,
    /// USB vendor ID.
    pub vid: Option<u16>,
    /// USB product ID.
    pub pid: Option<u16>,
    /// USB manufacturer string.
    pub manufacturer: Option<String>,
    /// USB product string.
    pub product: Option<String>,
    /// USB serial number.
    pub serial_number: Option<String>,
    /// What actprof takes the device for, and the spec to record it with.
    pub recognised: Option<String>,
}

/// Lists the serial ports: those the system reports plus bound Bluetooth RFCOMM ttys
/// (`/dev/rfcomm*`, which the sysfs scan does not always report), sorted by name.
pub fn list_ports() -> Result<Vec<PortEntry>, SerialError> {
    let system = serialport::available_ports().map_err(|err| SerialError::List {
        reason: err.description,
    })?;
    let mut entries: Vec<PortEntry> = system.iter().map(entry_of).collect();
    for rfcomm in rfcomm_ports() {
        if !entries.iter().any(|entry| entry.name == rfcomm) {
            entries.push(PortEntry {
                bus: "bluetooth",
                ..PortEntry::named(rfcomm)
            });
        }
    }
    for entry in &mut entries {
        entry.recognised = recognise(entry);
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

impl PortEntry {
    fn named(name: String) -> PortEntry {
        PortEntry {
            name,
            bus: "unknown",
            ..PortEntry::default()
        }
    }
}

fn entry_of(info: &SerialPortInfo) -> PortEntry {
    let name = info.port_name.clone();
    match &info.port_type {
        SerialPortType::UsbPort(usb) => PortEntry {
            bus: "usb",
            vid: Some(usb.vid),
            pid: Some(usb.pid),
            manufacturer: usb.manufacturer.clone(),
            product: usb.product.clone(),
            serial_number: usb.serial_number.clone(),
            ..PortEntry::named(name)
        },
        SerialPortType::PciPort => PortEntry {
            bus: "pci",
            ..PortEntry::named(name)
        },
        SerialPortType::BluetoothPort => PortEntry {
            bus: "bluetooth",
            ..PortEntry::named(name)
        },
        SerialPortType::Unknown => PortEntry::named(name),
    }
}

/// `/dev/rfcomm*` device nodes.
fn rfcomm_ports() -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/dev") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.starts_with("rfcomm"))
        .map(|name| format!("/dev/{name}"))
        .collect()
}

/// What a port probably is: the PPK2 by its USB identity, an RDTech UM meter by its
/// Bluetooth RFCOMM binding (the UM meters have no USB data interface).
pub fn recognise(entry: &PortEntry) -> Option<String> {
    let ppk2_id = entry.vid == Some(NORDIC_VID) && entry.pid == Some(PPK2_PID);
    let ppk2_product = entry.product.as_deref().is_some_and(|p| p.contains("PPK2"));
    if ppk2_id || ppk2_product {
        return Some(format!("Nordic PPK2: --power ppk2:{}", entry.name));
    }
    if entry.name.starts_with("/dev/rfcomm") {
        return Some(format!(
            "Bluetooth RFCOMM, likely an RDTech UM meter: --power um25c:{} (or um24c, um34c)",
            entry.name
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ppk2_is_recognised_by_usb_identity_or_product() {
        let by_id = PortEntry {
            vid: Some(0x1915),
            pid: Some(0xc00a),
            ..PortEntry::named("/dev/ttyACM0".into())
        };
        let recognised = recognise(&by_id).expect("recognised");
        assert!(recognised.contains("ppk2:/dev/ttyACM0"), "{recognised}");

        let by_product = PortEntry {
            product: Some("PPK2".into()),
            ..PortEntry::named("/dev/ttyACM1".into())
        };
        assert!(recognise(&by_product).is_some());
    }

    #[test]
    fn an_rfcomm_tty_is_taken_for_a_um_meter_and_others_are_not_guessed() {
        let rfcomm = recognise(&PortEntry::named("/dev/rfcomm0".into())).expect("recognised");
        assert!(rfcomm.contains("um25c:/dev/rfcomm0"), "{rfcomm}");
        assert_eq!(recognise(&PortEntry::named("/dev/ttyS0".into())), None);
        let other_usb = PortEntry {
            vid: Some(0x0403),
            pid: Some(0x6001),
            ..PortEntry::named("/dev/ttyUSB0".into())
        };
        assert_eq!(recognise(&other_usb), None);
    }
}
