//! `actprof ports`: the serial ports of this machine and the meters recognised on them.

use std::io::{self, Write as _};
use std::process::ExitCode;

use clap::Args;

use super::table::{Align, render};
use crate::serial::ports::{PortEntry, list_ports};

/// `actprof ports`.
#[derive(Clone, Debug, Args)]
pub struct PortsArgs {
    /// Print the ports as a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Lists the ports on standard output.
pub fn run(args: &PortsArgs) -> anyhow::Result<ExitCode> {
    let ports = list_ports()?;
    let mut stdout = io::stdout().lock();
    if args.json {
        writeln!(stdout, "{}", serde_json::to_string_pretty(&ports)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if ports.is_empty() {
        writeln!(stdout, "no serial ports found")?;
        return Ok(ExitCode::SUCCESS);
    }
    write!(stdout, "{}", table(&ports))?;
    Ok(ExitCode::SUCCESS)
}

fn table(ports: &[PortEntry]) -> String {
    let header = [
        ("port", Align::Left),
        ("bus", Align::Left),
        ("vid:pid", Align::Left),
        ("manufacturer", Align::Left),
        ("product", Align::Left),
        ("serial", Align::Left),
        ("recognised", Align::Left),
    ];
    let text = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".to_owned());
    let rows: Vec<Vec<String>> = ports
        .iter()
        .map(|port| {
            let id = match (port.vid, port.pid) {
                (Some(vid), Some(pid)) => format!("{vid:04x}:{pid:04x}"),
                _ => "-".to_owned(),
            };
            vec![
                port.name.clone(),
                port.bus.to_owned(),
                id,
                text(&port.manufacturer),
                text(&port.product),
                text(&port.serial_number),
                text(&port.recognised),
            ]
        })
        .collect();
    render(&header, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_shows_usb_identity_in_hex_and_dashes_for_unknowns() {
        let ports = [
            PortEntry {
                name: "/dev/ttyACM0".into(),
                bus: "usb",
                vid: Some(0x1915),
                pid: Some(0xc00a),
                manufacturer: Some("Nordic Semiconductor".into()),
                product: Some("PPK2".into()),
                serial_number: Some("C4E1".into()),
                recognised: Some("Nordic PPK2".into()),
            },
            PortEntry {
                name: "/dev/ttyS0".into(),
                bus: "unknown",
                ..PortEntry::default()
            },
        ];
        let text = table(&ports);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("port          bus"), "{text}");
        assert!(
            lines[1].contains("1915:c00a  Nordic Semiconductor  PPK2"),
            "{text}"
        );
        assert!(lines[2].starts_with("/dev/ttyS0    unknown  -"), "{text}");
    }
}
