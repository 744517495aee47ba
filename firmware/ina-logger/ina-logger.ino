// ina-logger: streams INA219 or INA226 readings over USB serial in actprof's line format.
//
// Line format (documented in actprof's src/power/meters/line.rs and README):
//
//   t_ms,bus_V,shunt_mV,current_mA,power_mW
//
// one reading per line, ending in "\r\n" (Serial.println), every INTERVAL_MS ms:
// t_ms is millis() (32 bits, wraps after ~49.7 days; actprof unwraps it), the rest have
// 3, 2, 2 and 2 decimals. At start the sketch prints a banner line (starting with a
// letter: actprof takes it as "the logger restarted") and the header line. Sending any
// line to the board prints the header again. Read it with:
//
//   actprof record --power ina:/dev/ttyUSB0 --duration 60s --out trace.csv
//
// Libraries (Arduino Library Manager):
//   INA219: "Adafruit INA219" (Adafruit_INA219.h)
//   INA226: "INA226" by Rob Tillaart (INA226.h)
// Pick the chip below, and for the INA226 set the shunt and the largest current.

#include <Wire.h>

// #define USE_INA226  // uncomment for an INA226 board

const unsigned long BAUD = 115200;        // actprof's default for `ina:`
const unsigned long INTERVAL_MS = 50;     // 20 readings per second
const uint8_t I2C_ADDRESS = 0x40;         // A0 = A1 = GND

#ifdef USE_INA226
#include <INA226.h>
const float MAX_CURRENT_A = 0.8;          // largest expected current, in A
const float SHUNT_OHMS = 0.1;             // the R100 on common breakout boards
INA226 ina(I2C_ADDRESS);
const char *CHIP = "INA226";
#else
#include <Adafruit_INA219.h>
Adafruit_INA219 ina(I2C_ADDRESS);
const char *CHIP = "INA219";
#endif

bool found = false;
unsigned long last_ms = 0;

void printHeader() {
  Serial.println("t_ms,bus_V,shunt_mV,current_mA,power_mW");
}

bool startSensor() {
#ifdef USE_INA226
  if (!ina.begin()) {
    return false;
  }
  // Returns 0 when the calibration fits the shunt and current.
  return ina.setMaxCurrentShunt(MAX_CURRENT_A, SHUNT_OHMS) == 0;
#else
  if (!ina.begin()) {
    return false;
  }
  ina.setCalibration_32V_2A();  // the library's default range: 32 V, 2 A, 0.1 ohm
  return true;
#endif
}

void setup() {
  Serial.begin(BAUD);
  while (!Serial) {
    // Boards with native USB: wait for the port to open.
  }
  Wire.begin();
  found = startSensor();
  Serial.print("ina-logger: ");
  Serial.print(CHIP);
  Serial.print(found ? " ready at 0x" : " not found at 0x");
  Serial.println(I2C_ADDRESS, HEX);
  printHeader();
  last_ms = millis();
}

void loop() {
  // Any input asks for the header again (actprof sends a newline when it connects).
  if (Serial.available() > 0) {
    while (Serial.available() > 0) {
      Serial.read();
    }
    printHeader();
  }

  unsigned long now = millis();
  // Unsigned subtraction stays right across the millis() wrap.
  if (now - last_ms < INTERVAL_MS) {
    return;
  }
  last_ms += INTERVAL_MS;

  if (!found) {
    // A comment, never a reading: actprof reports that no reading came.
    Serial.println("# ina-logger: no sensor; check the wiring and the address");
    delay(1000);
    found = startSensor();
    return;
  }

#ifdef USE_INA226
  float bus_v = ina.getBusVoltage();
  float shunt_mv = ina.getShuntVoltage_mV();
  float current_ma = ina.getCurrent_mA();
  float power_mw = ina.getPower_mW();
#else
  float bus_v = ina.getBusVoltage_V();
  float shunt_mv = ina.getShuntVoltage_mV();
  float current_ma = ina.getCurrent_mA();
  float power_mw = ina.getPower_mW();
#endif

  Serial.print(now);
  Serial.print(',');
  Serial.print(bus_v, 3);
  Serial.print(',');
  Serial.print(shunt_mv, 2);
  Serial.print(',');
  Serial.print(current_ma, 2);
  Serial.print(',');
  Serial.println(power_mw, 2);
}
