package org.memhygiene.simulator.scenario;

import java.util.Arrays;
import java.util.List;

/**
 * Identical content held by several guests (docs/SIMULATOR.md, "Content groups"): {@code contents}
 * distinct page contents, content i in {@code copies(i)} pages, dealt round-robin over the group's
 * guests in content order (copy after copy), so the copies of a content spread over the guests and,
 * where a content has more copies than the group has guests, over pages of one guest too. A guest's
 * group pages follow its secret pages, in dealing order.
 *
 * @param guests     the guests that hold the group, by name, in dealing order
 * @param secret     whether the pages hold secrets (for the exposure figures)
 * @param prefix     prefix[i] is the number of pages of contents 0 .. i-1; prefix[contents] is all of them
 */
public record ContentGroup(String name, List<String> guests, boolean secret, long[] prefix) {
    public ContentGroup {
        guests = List.copyOf(guests);
        prefix = prefix.clone();
    }

    public int contents() {
        return prefix.length - 1;
    }

    public long pages() {
        return prefix[prefix.length - 1];
    }

    public long copies(int content) {
        return prefix[content + 1] - prefix[content];
    }

    /** Pages the guest at {@code position} in {@link #guests} holds: every G-th page dealt, from its position. */
    public long pagesOf(int position) {
        long g = guests.size();
        return (pages() - position + g - 1) / g;
    }

    /** The content of the {@code j}-th group page of the guest at {@code position}. */
    public int contentAt(int position, long j) {
        long dealt = j * guests.size() + position;
        int i = Arrays.binarySearch(prefix, dealt);
        // An exact hit is where a content's copies start (the last of equal prefixes, for contents of 0 copies).
        if (i >= 0) {
            while (i + 1 < prefix.length && prefix[i + 1] == dealt) {
                i++;
            }
            return i;
        }
        return -i - 2;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ContentGroup c
                && name.equals(c.name)
                && guests.equals(c.guests)
                && secret == c.secret
                && Arrays.equals(prefix, c.prefix);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(prefix);
    }

    @Override
    public String toString() {
        return "ContentGroup[" + name + ", " + contents() + " contents in " + pages() + " pages over " + guests.size()
                + " guests]";
    }
}
