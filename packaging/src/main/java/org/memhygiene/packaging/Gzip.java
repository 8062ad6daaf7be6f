package org.memhygiene.packaging;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * gzip as Debian wants man pages and changelogs (Debian Policy 12.1, 12.7): best compression, and the
 * header says so (XFL=2, which lintian checks: java.util.zip.GZIPOutputStream writes 0 and cannot pick a
 * level), no file name and no time stamp in it (reproducible, like gzip -9n).
 */
final class Gzip {
    private Gzip() {}

    static void write(Path file, String text) throws IOException {
        byte[] data = text.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        // magic, deflate, no flags, mtime 0, XFL 2 (maximum compression), OS 3 (Unix): RFC 1952 section 2.3
        out.write(new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 2, 3});
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
        deflater.setInput(data);
        deflater.finish();
        byte[] buffer = new byte[8192];
        while (!deflater.finished()) {
            out.write(buffer, 0, deflater.deflate(buffer));
        }
        deflater.end();
        CRC32 crc = new CRC32();
        crc.update(data);
        writeLittleEndian(out, crc.getValue());
        writeLittleEndian(out, data.length);
        Files.createDirectories(file.getParent());
        Files.write(file, out.toByteArray());
    }

    private static void writeLittleEndian(ByteArrayOutputStream out, long value) {
        for (int i = 0; i < 4; i++) {
            out.write((int) (value >>> (8 * i)) & 0xff);
        }
    }
}
