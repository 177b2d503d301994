// Who else is looking at the open item, or writing about it: the item this
// page watches (the socket's `watch`, with heartbeats), the viewers the
// `presence` frames name, and this person's own `composing`.

import { defineStore } from 'pinia';
import { ref } from 'vue';
import * as live from '../live.js';

export const usePresenceStore = defineStore( 'presence', () => {
	/** The item watched, or null. */
	const item = ref( null );
	/** `[{name, composing}]`, this person included. */
	const viewers = ref( [] );

	/** Joins an item's presence. */
	function watch( id ) {
		item.value = id;
		viewers.value = [];
		live.watch( id );
	}

	/** Leaves the watched item's presence. */
	function unwatch() {
		if ( item.value ) {
			live.unwatch( item.value );
		}
		item.value = null;
		viewers.value = [];
	}

	/** Shows (or stops showing) that this person is writing about an item. */
	function composing( id, on ) {
		live.composing( id, on );
	}

	/** A `presence` frame. */
	function applyFrame( f ) {
		if ( f.item === item.value ) {
			viewers.value = Array.isArray( f.viewers ) ? f.viewers : [];
		}
	}

	return { item, viewers, watch, unwatch, composing, applyFrame };
} );
