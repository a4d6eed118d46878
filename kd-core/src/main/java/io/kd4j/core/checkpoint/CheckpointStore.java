package io.kd4j.core.checkpoint;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/**
 * Reads and writes a run's checkpoint file, {@value #FILE_NAME}, in one directory.
 *
 * <p>The file is a zip of {@code network.zip} (the training copy saved by DL4J's
 * {@code ModelSerializer} <em>with</em> its updater state and iteration/epoch counters) and
 * {@code state.properties} (format version, {@link CheckpointState}, the network's SHA-256).
 *
 * <p><b>Atomic:</b> a checkpoint is written to a temporary file in the same directory, forced to
 * disk ({@code fsync}), then renamed over the previous one with an atomic move, and the directory is
 * forced too. A crash at any moment leaves either the previous complete checkpoint or the new
 * complete one, never a partial file under the checkpoint's name; stale temporary files are deleted
 * the next time a store opens the directory. <b>Verified:</b> a truncated or altered file fails the
 * zip's CRC-32 or the network's SHA-256 and is refused with an error naming the file, never used.
 */
public final class CheckpointStore {
    /** The checkpoint's file name inside the directory. */
    public static final String FILE_NAME = "checkpoint.kd4j";
    private static final String TMP_SUFFIX = ".tmp";
    private static final int FORMAT_VERSION = 1;
    private static final String NETWORK_ENTRY = "network.zip";
    private static final String STATE_ENTRY = "state.properties";

    private final Path directory;

    /** A store for {@code directory} (created when missing); stale temporary files are removed. */
    public CheckpointStore(Path directory) throws IOException {
        this.directory = Objects.requireNonNull(directory, "checkpoint directory must not be null");
        Files.createDirectories(directory);
        try (DirectoryStream<Path> stale = Files.newDirectoryStream(directory, FILE_NAME + ".*" + TMP_SUFFIX)) {
            for (Path p : stale) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** The checkpoint file (it may not exist yet). */
    public Path file() {
        return directory.resolve(FILE_NAME);
    }

    /** A checkpoint read back: its state and the training network with updater state and counters. */
    public record Loaded(CheckpointState state, Model network) {
    }

    /** Atomically replaces the checkpoint with {@code network} (with its updater) and {@code state}. */
    public void write(Model network, CheckpointState state) throws IOException {
        ByteArrayOutputStream net = new ByteArrayOutputStream();
        ModelSerializer.writeModel(network, new NonClosing(net), true);
        byte[] netBytes = net.toByteArray();
        Properties p = new Properties();
        p.setProperty("formatVersion", Integer.toString(FORMAT_VERSION));
        p.setProperty("networkType", network instanceof ComputationGraph ? "ComputationGraph" : "MultiLayerNetwork");
        p.setProperty("networkSha256", sha256(netBytes));
        p.setProperty("networkBytes", Integer.toString(netBytes.length));
        p.setProperty("runFingerprint", state.runFingerprint());
        p.setProperty("epochsCompleted", Integer.toString(state.epochsCompleted()));
        p.setProperty("batchesDone", Long.toString(state.batchesDone()));
        p.setProperty("steps", Long.toString(state.steps()));
        p.setProperty("skippedBatches", Long.toString(state.skippedBatches()));
        p.setProperty("finished", Boolean.toString(state.finished()));
        new TreeMap<>(state.progress()).forEach((k, v) -> p.setProperty("progress." + k, v));
        StringWriter text = new StringWriter();
        p.store(text, "kd4j distillation checkpoint");

        Path tmp = Files.createTempFile(directory, FILE_NAME + ".", TMP_SUFFIX);
        try {
            try (FileOutputStream fos = new FileOutputStream(tmp.toFile());
                 ZipOutputStream zip = new ZipOutputStream(new java.io.BufferedOutputStream(fos))) {
                zip.putNextEntry(new ZipEntry(NETWORK_ENTRY));
                zip.write(netBytes);
                zip.closeEntry();
                zip.putNextEntry(new ZipEntry(STATE_ENTRY));
                zip.write(text.toString().getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
                zip.finish();
                zip.flush();
                fos.getFD().sync();
            }
            Files.move(tmp, file(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            forceDirectory();
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private void forceDirectory() {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            // some platforms cannot open a directory for fsync; the rename itself is still atomic
        }
    }

    /** The checkpoint's state without loading the network, or empty when there is no checkpoint. */
    public Optional<CheckpointState> readState() throws IOException {
        return readRaw().map(Raw::state);
    }

    /** The checkpoint with its network, or empty when there is no checkpoint. */
    public Optional<Loaded> read() throws IOException {
        Optional<Raw> raw = readRaw();
        if (raw.isEmpty()) {
            return Optional.empty();
        }
        Raw r = raw.get();
        Model net = r.graph
                ? ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(r.network), true)
                : ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(r.network), true);
        return Optional.of(new Loaded(r.state, net));
    }

    private record Raw(CheckpointState state, byte[] network, boolean graph) {
    }

    private Optional<Raw> readRaw() throws IOException {
        Path f = file();
        if (!Files.exists(f)) {
            return Optional.empty();
        }
        byte[] network = null;
        String stateText = null;
        try (InputStream in = Files.newInputStream(f); ZipInputStream zip = new ZipInputStream(in)) {
            ZipEntry e;
            while ((e = zip.getNextEntry()) != null) {
                byte[] bytes = zip.readAllBytes(); // the zip stream checks each entry's CRC-32 here
                if (e.getName().equals(NETWORK_ENTRY)) {
                    network = bytes;
                } else if (e.getName().equals(STATE_ENTRY)) {
                    stateText = new String(bytes, StandardCharsets.UTF_8);
                }
            }
        } catch (IOException e) {
            throw corrupt(f, "unreadable zip (" + e.getMessage() + ")", e);
        }
        if (network == null || stateText == null) {
            throw corrupt(f, "missing " + (network == null ? NETWORK_ENTRY : STATE_ENTRY), null);
        }
        Properties p = new Properties();
        p.load(new StringReader(stateText));
        try {
            int version = Integer.parseInt(p.getProperty("formatVersion", "-1"));
            if (version != FORMAT_VERSION) {
                throw corrupt(f, "format version " + version + ", this kd4j reads " + FORMAT_VERSION, null);
            }
            if (!sha256(network).equals(p.getProperty("networkSha256"))) {
                throw corrupt(f, "network SHA-256 mismatch", null);
            }
            Map<String, String> progress = new LinkedHashMap<>();
            for (String k : new TreeMap<>(p).keySet().stream().map(Object::toString).toList()) {
                if (k.startsWith("progress.")) {
                    progress.put(k.substring("progress.".length()), p.getProperty(k));
                }
            }
            CheckpointState state = new CheckpointState(require(p, "runFingerprint", f),
                    Integer.parseInt(require(p, "epochsCompleted", f)), Long.parseLong(require(p, "batchesDone", f)),
                    Long.parseLong(require(p, "steps", f)), Long.parseLong(require(p, "skippedBatches", f)),
                    Boolean.parseBoolean(require(p, "finished", f)), progress);
            return Optional.of(new Raw(state, network, "ComputationGraph".equals(p.getProperty("networkType"))));
        } catch (NumberFormatException e) {
            throw corrupt(f, "malformed state (" + e.getMessage() + ")", e);
        }
    }

    private static String require(Properties p, String key, Path f) throws IOException {
        String v = p.getProperty(key);
        if (v == null) {
            throw corrupt(f, "state has no '" + key + "'", null);
        }
        return v;
    }

    private static IOException corrupt(Path f, String why, Throwable cause) {
        return new IOException("checkpoint " + f + " is corrupt or incomplete: " + why
                + "; refusing to resume from it (delete it to start the run over)", cause);
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    /** Keeps ModelSerializer from closing the buffer. */
    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
