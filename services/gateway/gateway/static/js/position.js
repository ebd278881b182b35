// A place as the pages take it from a person: coordinates typed in decimal degrees (a comma works as
// the decimal mark), or the device's own position, asked for only when the person presses a button.

export const COORD_DIGITS = 5;

// The number in `text` when it lies within [min, max], else null.
export function parseCoord(text, min, max) {
  const value = Number.parseFloat(String(text ?? '').trim().replace(',', '.'));
  return Number.isFinite(value) && value >= min && value <= max ? value : null;
}

// The device's position: resolves {lat, lon}; rejects with an Error whose message is 'unsupported'
// (the browser has no geolocation) or 'denied' (refused, or not found in time).
export function devicePosition() {
  return new Promise((resolve, reject) => {
    if (!('geolocation' in navigator)) {
      reject(new Error('unsupported'));
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (position) => resolve({ lat: position.coords.latitude, lon: position.coords.longitude }),
      () => reject(new Error('denied')),
      { enableHighAccuracy: false, timeout: 15000, maximumAge: 60000 },
    );
  });
}
