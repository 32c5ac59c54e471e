#!/usr/bin/env python3
# unit-convert: converts values between units of length, mass, time, volume, area, speed, data, energy, power, pressure, angle and temperature.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, fail, read_args  # noqa: E402

# Every unit is (dimension, factor to the SI base unit); temperatures are affine and handled apart.
UNITS = {}


def add(dimension, factor, *names):
    for n in names:
        UNITS[n.lower()] = (dimension, factor)


add("length", 1.0, "m", "meter", "meters", "metre", "metres")
add("length", 1e-3, "mm", "millimeter", "millimeters", "millimetre")
add("length", 1e-2, "cm", "centimeter", "centimeters", "centimetre")
add("length", 1e3, "km", "kilometer", "kilometers", "kilometre")
add("length", 1e-6, "um", "µm", "micrometer", "micron")
add("length", 1e-9, "nm", "nanometer")
add("length", 0.0254, "in", "inch", "inches")
add("length", 0.3048, "ft", "foot", "feet")
add("length", 0.9144, "yd", "yard", "yards")
add("length", 1609.344, "mi", "mile", "miles")
add("length", 1852.0, "nmi", "nautical_mile", "nautical_miles")
add("mass", 1.0, "kg", "kilogram", "kilograms")
add("mass", 1e-3, "g", "gram", "grams")
add("mass", 1e-6, "mg", "milligram", "milligrams")
add("mass", 1e3, "t", "tonne", "tonnes", "metric_ton")
add("mass", 0.45359237, "lb", "lbs", "pound", "pounds")
add("mass", 0.028349523125, "oz", "ounce", "ounces")
add("mass", 6.35029318, "st", "stone")
add("time", 1.0, "s", "sec", "second", "seconds")
add("time", 1e-3, "ms", "millisecond", "milliseconds")
add("time", 1e-6, "us", "µs", "microsecond", "microseconds")
add("time", 1e-9, "ns", "nanosecond", "nanoseconds")
add("time", 60.0, "min", "minute", "minutes")
add("time", 3600.0, "h", "hr", "hour", "hours")
add("time", 86400.0, "d", "day", "days")
add("time", 604800.0, "wk", "week", "weeks")
add("time", 31557600.0, "yr", "year", "years")  # Julian year, 365.25 days
add("area", 1.0, "m2", "sq_m", "square_meter", "square_meters")
add("area", 1e-4, "cm2", "square_centimeter")
add("area", 1e6, "km2", "square_kilometer", "square_kilometers")
add("area", 1e4, "ha", "hectare", "hectares")
add("area", 4046.8564224, "acre", "acres")
add("area", 0.09290304, "ft2", "sq_ft", "square_foot", "square_feet")
add("area", 2589988.110336, "mi2", "square_mile", "square_miles")
add("volume", 1e-3, "l", "liter", "liters", "litre", "litres")
add("volume", 1e-6, "ml", "milliliter", "milliliters", "millilitre")
add("volume", 1.0, "m3", "cubic_meter", "cubic_meters")
add("volume", 3.785411784e-3, "gal", "gallon", "gallons", "us_gallon")
add("volume", 4.54609e-3, "imp_gal", "imperial_gallon")
add("volume", 0.946352946e-3, "qt", "quart", "quarts")
add("volume", 0.473176473e-3, "pt", "pint", "pints")
add("volume", 0.2365882365e-3, "cup", "cups")
add("volume", 29.5735295625e-6, "fl_oz", "fluid_ounce", "fluid_ounces")
add("volume", 14.78676478125e-6, "tbsp", "tablespoon", "tablespoons")
add("volume", 4.92892159375e-6, "tsp", "teaspoon", "teaspoons")
add("speed", 1.0, "m/s", "mps")
add("speed", 1 / 3.6, "km/h", "kmh", "kph")
add("speed", 0.44704, "mph", "mi/h")
add("speed", 1852 / 3600.0, "kn", "knot", "knots")
add("speed", 0.3048, "ft/s", "fps")
add("data", 1.0, "b", "byte", "bytes")
add("data", 0.125, "bit", "bits")
for i, (si, iec) in enumerate((("kb", "kib"), ("mb", "mib"), ("gb", "gib"), ("tb", "tib"), ("pb", "pib")), start=1):
    add("data", 1000.0 ** i, si)
    add("data", 1024.0 ** i, iec)
add("data", 1000.0 ** 1, "kilobyte", "kilobytes")
add("data", 1000.0 ** 2, "megabyte", "megabytes")
add("data", 1000.0 ** 3, "gigabyte", "gigabytes")
add("data", 1000.0 ** 4, "terabyte", "terabytes")
add("energy", 1.0, "j", "joule", "joules")
add("energy", 1e3, "kj", "kilojoule", "kilojoules")
add("energy", 4.184, "cal", "calorie", "calories")
add("energy", 4184.0, "kcal", "kilocalorie", "kilocalories")
add("energy", 3.6e6, "kwh", "kilowatt_hour", "kilowatt_hours")
add("energy", 3600.0, "wh", "watt_hour")
add("energy", 1055.05585262, "btu")
add("power", 1.0, "w", "watt", "watts")
add("power", 1e3, "kw", "kilowatt", "kilowatts")
add("power", 745.69987158227022, "hp", "horsepower")
add("pressure", 1.0, "pa", "pascal", "pascals")
add("pressure", 1e3, "kpa", "kilopascal")
add("pressure", 1e5, "bar", "bars")
add("pressure", 101325.0, "atm", "atmosphere", "atmospheres")
add("pressure", 6894.757293168, "psi")
add("pressure", 133.322387415, "mmhg")
add("angle", 1.0, "rad", "radian", "radians")
add("angle", 3.141592653589793 / 180, "deg", "degree", "degrees")
add("angle", 3.141592653589793 / 200, "grad", "gon")
add("angle", 2 * 3.141592653589793, "turn", "turns", "rev")
TEMPERATURES = {"c": "C", "celsius": "C", "°c": "C", "f": "F", "fahrenheit": "F", "°f": "F", "k": "K",
                "kelvin": "K", "r": "R", "rankine": "R"}


def to_kelvin(v, u):
    return {"C": v + 273.15, "F": (v - 32) * 5 / 9 + 273.15, "K": v, "R": v * 5 / 9}[u]


def from_kelvin(k, u):
    return {"C": k - 273.15, "F": (k - 273.15) * 9 / 5 + 32, "K": k, "R": k * 9 / 5}[u]


def main():
    args = read_args()
    value = arg(args, "value", "number")
    src = arg(args, "from", "string").strip()
    dst = arg(args, "to", "string").strip()
    precision = arg(args, "precision", "integer", 10, minimum=0, maximum=15)
    s, d = src.lower().replace(" ", "_"), dst.lower().replace(" ", "_")
    if s in TEMPERATURES or d in TEMPERATURES:
        if s not in TEMPERATURES or d not in TEMPERATURES:
            fail("cannot convert %r to %r: only temperatures (C, F, K, R) convert to temperatures" % (src, dst), 2)
        kelvin = to_kelvin(value, TEMPERATURES[s])
        if kelvin < -1e-9:
            fail("%s %s is below absolute zero" % (value, src))
        result, dimension = from_kelvin(kelvin, TEMPERATURES[d]), "temperature"
    else:
        for u, field in ((s, "from"), (d, "to")):
            if u not in UNITS:
                close = sorted(n for n in UNITS if n.startswith(u[:2]))[:8]
                fail("argument %r: unknown unit %r%s" % (field, u, "; did you mean " + ", ".join(close) if close else ""), 2)
        (ds, fs), (dd, fd) = UNITS[s], UNITS[d]
        if ds != dd:
            fail("cannot convert %s (%s) to %s (%s): different dimensions" % (src, ds, dst, dd), 2)
        result, dimension = value * fs / fd, ds
    result = round(result, precision)
    if float(result).is_integer() and abs(result) < 2 ** 53:
        result = int(result)
    emit({"value": value, "from": src, "to": dst, "result": result, "dimension": dimension,
          "text": "%s %s = %s %s" % (value, src, result, dst)})


main()
