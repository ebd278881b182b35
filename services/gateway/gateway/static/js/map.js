// City map on vendored Leaflet (window.L). The page must work offline: its base layer is the NIL
// neighbourhoods' outlines and names from the platform's own data. A background of map tiles is drawn
// only where the deployment configures one (MAP_TILES_URL, given to the page as <meta name="map-tiles">).

import { t } from './i18n.js';

const MILAN = [45.4642, 9.19];
const PANES = { nils: 320, districts: 350, shops: 420, markets: 440 };
// NIL names are written on the map from this zoom on (below it they would cover each other)
const NIL_LABELS_FROM_ZOOM = 13;

// Five classes, low to high; the colours are defined once in app.css (--scale-0 … --scale-4).
export function scaleClass(fraction) {
  if (typeof fraction !== 'number' || !Number.isFinite(fraction)) return null;
  return Math.min(4, Math.max(0, Math.floor(fraction * 5)));
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function scaleColour(fraction) {
  const cls = scaleClass(fraction);
  return cls === null ? cssVar('--scale-none') : cssVar(`--scale-${cls}`);
}

// District areas and market circles are SVG paths: make each one a labelled keyboard stop that
// opens its popup with Enter or Space, like a click does.
function labelPath(layer, text) {
  const el = layer.getElement && layer.getElement();
  if (!el) return;
  el.setAttribute('tabindex', '0');
  el.setAttribute('role', 'button');
  el.setAttribute('aria-label', text);
  if (el.dataset.keyboard) return;
  el.dataset.keyboard = 'true';
  el.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      layer.openPopup();
    }
  });
}

// Every district and market on the map is a keyboard stop (31 and more on the demo data): a link
// before the map, shown when focused, takes the keyboard past them to the first control after the
// map (its layers), without touching the address (the page's sections live in the hash).
function addSkipLink(element) {
  const link = document.createElement('a');
  link.href = '#';
  link.className = 'visually-hidden';
  link.dataset.i18n = 'map.skip';
  link.dataset.testid = 'map-skip';
  link.textContent = t('map.skip');
  link.addEventListener('focus', () => link.classList.remove('visually-hidden'));
  link.addEventListener('blur', () => link.classList.add('visually-hidden'));
  link.addEventListener('click', (event) => {
    event.preventDefault();
    const after = element.parentElement?.querySelector('.legend input, .legend button, .legend a');
    if (after) after.focus();
  });
  element.before(link);
}

// Leaflet inserts a string given as tooltip or popup content as HTML. Names come from the API
// (markets, districts, shops), so every content passes through here and a string becomes text.
function asContent(value) {
  if (value instanceof Node) return value;
  const span = document.createElement('span');
  span.textContent = value === undefined || value === null ? '' : String(value);
  return span;
}

function escapeHtml(text) {
  const span = document.createElement('span');
  span.textContent = text;
  return span.innerHTML;
}

// The tile background the deployment configured, if any: {url, attribution}.
function configuredTiles() {
  const meta = document.querySelector('meta[name="map-tiles"]');
  return meta && meta.content ? { url: meta.content, attribution: meta.dataset.attribution || '' } : null;
}

function pointOf(location) {
  if (!location || typeof location.lat !== 'number' || typeof location.lon !== 'number') return null;
  return [location.lat, location.lon];
}

// A map of Milan over the NIL neighbourhoods' outlines (and names, once zoomed in), on the configured
// tile background if any: what every page's map stands on.
export class NilMap {
  constructor(element, { center = MILAN, zoom = 12 } = {}) {
    const L = window.L;
    this.L = L;
    this.element = element;
    this.map = L.map(element, { center, zoom, minZoom: 9, maxZoom: 18, zoomSnap: 0.25 });
    for (const [name, z] of Object.entries(PANES)) this.map.createPane(name).style.zIndex = String(z);
    // The page layout settles after the map is created (panels fill in): keep Leaflet's size in step.
    new ResizeObserver(() => this.map.invalidateSize()).observe(element);
    const tiles = configuredTiles();
    if (tiles) {
      // Leaflet writes the attribution as HTML: the configured text is shown as text
      L.tileLayer(tiles.url, { attribution: escapeHtml(tiles.attribution), maxZoom: 19 }).addTo(this.map);
      element.dataset.tiles = 'on';
    }
    this.nilOutlines = L.geoJSON(null, {
      pane: 'nils',
      interactive: false,
      style: () => ({ className: 'nil-shape', color: cssVar('--map-nil'), weight: 1, dashArray: '4 3', fill: false }),
    });
    this.nilLabels = L.layerGroup();
    this.nils = L.layerGroup([this.nilOutlines, this.nilLabels]).addTo(this.map);
    const showNilNames = () => element.classList.toggle('show-nil-labels', this.map.getZoom() >= NIL_LABELS_FROM_ZOOM);
    this.map.on('zoomend', showNilNames);
    showNilNames();
  }

  refreshSize() {
    this.map.invalidateSize();
  }

  // The NIL neighbourhoods under the data: outlines, and names once zoomed in.
  setNils(featureCollection) {
    const features = Array.isArray(featureCollection?.features) ? featureCollection.features : [];
    this.nilOutlines.clearLayers();
    this.nilLabels.clearLayers();
    for (const feature of features) {
      if (!feature || !feature.geometry) continue;
      this.nilOutlines.addData(feature);
    }
    this.nilOutlines.eachLayer((layer) => {
      const name = layer.feature?.properties?.name;
      if (!name) return;
      const label = this.L.tooltip({ permanent: true, direction: 'center', className: 'nil-label', interactive: false })
        .setLatLng(layer.getBounds().getCenter())
        .setContent(asContent(name));
      this.nilLabels.addLayer(label);
    });
    this.element.dataset.nils = String(this.nilOutlines.getLayers().length);
  }
}

// The office's city map: districts coloured by a figure, markets, kiosks and historic shops.
export class CityMap extends NilMap {
  // hooks: districtFraction(feature), districtPopup(feature), districtLabel(feature),
  //        marketFraction(market), marketPopup(market), marketLabel(market), shopPopup(properties)
  constructor(element, hooks) {
    super(element);
    const L = this.L;
    this.hooks = hooks;
    this.fitted = false;
    this.marketMarkers = new Map();
    this.layers = {
      nils: this.nils,
      districts: L.geoJSON(null, {
        pane: 'districts',
        style: (feature) => this.districtStyle(feature),
        onEachFeature: (feature, layer) => {
          layer.bindTooltip(() => asContent(hooks.districtLabel(feature)), { sticky: true });
          layer.bindPopup(() => asContent(hooks.districtPopup(feature)));
          layer.on('add', () => labelPath(layer, hooks.districtLabel(feature)));
        },
      }),
      markets: L.layerGroup(),
      kiosks: L.layerGroup(),
      historic: L.layerGroup(),
    };
    for (const layer of Object.values(this.layers)) layer.addTo(this.map);
    addSkipLink(element);
    this.icons = {};
    for (const kind of ['kiosk', 'historic']) {
      for (const closed of [false, true]) {
        this.icons[`${kind}-${closed}`] = L.divIcon({
          className: `shop-icon shop-icon-${kind}${closed ? ' shop-icon-closed' : ''}`,
          iconSize: [12, 12],
          html: '',
        });
      }
    }
  }

  districtStyle(feature) {
    return {
      className: 'district-shape',
      color: cssVar('--map-outline'),
      weight: 1.5,
      fillColor: scaleColour(this.hooks.districtFraction(feature)),
      fillOpacity: 0.55,
    };
  }

  setDistricts(featureCollection) {
    const features = Array.isArray(featureCollection?.features) ? featureCollection.features : [];
    const layer = this.layers.districts;
    layer.clearLayers();
    for (const feature of features) {
      if (feature && feature.geometry) layer.addData(feature);
    }
    this.element.dataset.districts = String(layer.getLayers().length);
    this.fitOnce();
  }

  restyleDistricts() {
    this.layers.districts.eachLayer((layer) => {
      layer.setStyle(this.districtStyle(layer.feature));
      labelPath(layer, this.hooks.districtLabel(layer.feature));
    });
  }

  // After a language switch: the keyboard labels are text in the page's language.
  refreshLabels() {
    this.restyleDistricts();
    for (const marker of this.marketMarkers.values()) labelPath(marker, this.hooks.marketLabel(marker.market));
  }

  marketStyle(market) {
    const total = market.occupancy?.stalls_total;
    const radius = typeof total === 'number' ? Math.min(14, Math.max(7, 5 + Math.sqrt(total))) : 8;
    return {
      radius,
      color: cssVar('--map-outline'),
      weight: 2,
      fillColor: scaleColour(this.hooks.marketFraction(market)),
      fillOpacity: 0.95,
    };
  }

  // Updates markers in place (an open popup or keyboard focus survives a refresh).
  setMarkets(markets) {
    const seen = new Set();
    for (const market of markets) {
      seen.add(market.id);
      this.updateMarket(market);
    }
    for (const [id, marker] of this.marketMarkers) {
      if (!seen.has(id)) {
        this.layers.markets.removeLayer(marker);
        this.marketMarkers.delete(id);
      }
    }
    this.element.dataset.markets = String(this.marketMarkers.size);
    this.fitOnce();
  }

  updateMarket(market) {
    const existing = this.marketMarkers.get(market.id);
    if (existing) {
      existing.market = market;
      const moved = pointOf(market.location);
      if (moved) existing.setLatLng(moved);
      existing.setStyle(this.marketStyle(market));
      labelPath(existing, this.hooks.marketLabel(market));
      if (existing.isPopupOpen()) existing.getPopup().update();
      return;
    }
    const point = pointOf(market.location);
    if (!point) return;
    const marker = this.L.circleMarker(point, { ...this.marketStyle(market), pane: 'markets', className: 'market-marker' });
    marker.market = market;
    marker.bindTooltip(() => asContent(this.hooks.marketLabel(marker.market)));
    marker.bindPopup(() => asContent(this.hooks.marketPopup(marker.market)));
    marker.on('add', () => labelPath(marker, this.hooks.marketLabel(marker.market)));
    marker.addTo(this.layers.markets);
    this.marketMarkers.set(market.id, marker);
    this.element.dataset.markets = String(this.marketMarkers.size);
  }

  setShops(kind, featureCollection) {
    const group = kind === 'kiosk' ? this.layers.kiosks : this.layers.historic;
    group.clearLayers();
    const features = Array.isArray(featureCollection?.features) ? featureCollection.features : [];
    let active = 0;
    for (const feature of features) {
      const coords = feature?.geometry?.type === 'Point' ? feature.geometry.coordinates : null;
      if (!Array.isArray(coords) || coords.length < 2) continue;
      const props = feature.properties || {};
      const marker = this.L.marker([coords[1], coords[0]], {
        pane: 'shops',
        icon: this.icons[`${kind}-${props.status === 'closed'}`],
        keyboard: false,
        title: props.name || '',
      });
      marker.bindPopup(() => asContent(this.hooks.shopPopup(props)));
      marker.addTo(group);
      if (props.status !== 'closed') active += 1;
    }
    const key = kind === 'kiosk' ? 'kiosks' : 'historic';
    this.element.dataset[key] = String(group.getLayers().length);
    this.element.dataset[`${key}Active`] = String(active);
  }

  setVisible(name, visible) {
    const layer = this.layers[name];
    if (!layer) return;
    if (visible) layer.addTo(this.map);
    else layer.remove();
  }

  fitOnce() {
    if (this.fitted) return;
    const districts = this.layers.districts.getLayers().length ? this.layers.districts.getBounds() : null;
    const markets = this.layers.markets.getLayers().length
      ? this.L.featureGroup(this.layers.markets.getLayers()).getBounds()
      : null;
    const bounds = districts && districts.isValid() ? districts : markets;
    if (bounds && bounds.isValid()) {
      this.map.fitBounds(bounds, { padding: [20, 20], maxZoom: 14 });
      this.fitted = Boolean(districts && districts.isValid());
    }
  }
}

// A map to put one point on: a click or a tap places the marker (dragging moves it), and so does
// Enter with the map focused (at its centre, after moving it with the arrow keys). onPlace(lat, lon)
// hears each placement; place(lat, lon) puts the marker where the page's own fields say.
export class PlaceMap extends NilMap {
  constructor(element, { onPlace, zoom = 12 }) {
    super(element, { zoom });
    this.onPlace = onPlace;
    this.marker = null;
    this.map.on('click', (event) => this.placedByHand(event.latlng));
    element.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter' || event.target !== element) return;
      event.preventDefault();
      this.placedByHand(this.map.getCenter());
    });
  }

  placedByHand(latlng) {
    this.place(latlng.lat, latlng.lng, { follow: false });
    this.onPlace(latlng.lat, latlng.lng);
  }

  // follow: bring the point into view (when it was typed, not pointed at)
  place(lat, lon, { follow = true } = {}) {
    const L = this.L;
    if (!this.marker) {
      const icon = L.divIcon({ className: 'place-marker', iconSize: [22, 22], html: '' });
      this.marker = L.marker([lat, lon], { icon, draggable: true, keyboard: false, pane: 'shops' });
      this.marker.on('dragend', () => this.placedByHand(this.marker.getLatLng()));
      this.marker.addTo(this.map);
    } else {
      this.marker.setLatLng([lat, lon]);
    }
    this.element.dataset.placed = `${lat.toFixed(5)},${lon.toFixed(5)}`;
    // not animated: two placements in a row (latitude, then longitude typed) must not race
    if (follow) this.map.setView([lat, lon], Math.max(this.map.getZoom(), 14), { animate: false });
  }

  clear() {
    this.marker?.remove();
    this.marker = null;
    delete this.element.dataset.placed;
  }
}
